"""Pickling and `copy.deepcopy` of models after `fit`: compiled plans are not copied."""

import copy
import pickle

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras

X = np.random.RandomState(0).rand(32, 4).astype("float32")
Y = np.random.RandomState(1).rand(32, 2).astype("float32")


class TwoDense(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(5, activation="relu")
        self.out = keras.layers.Dense(2)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def _sequential():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.BatchNormalization(), keras.layers.Dense(2)])


def _functional():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(5, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Add()([keras.layers.Dense(2)(hidden),
                                                   keras.layers.Dense(2)(hidden)]))


def _pickle_copy(model):
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("copier", [_pickle_copy, copy.deepcopy], ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("build", [_sequential, _functional, TwoDense])
def test_copy_after_fit_predicts_the_same_and_keeps_training(build, copier):
    model = build()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=8, epochs=3, verbose=0)  # The steps run as compiled plans.
    model.predict(X, verbose=0)
    assert model.train_function.plan_sources()  # There was a plan to leave behind.

    clone = copier(model)
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    np.testing.assert_array_equal(clone(X).numpy(), model(X).numpy())
    before = [w.numpy() for w in model.weights]

    clone_history = clone.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    for array, weight in zip(before, model.weights):  # Its plans did not train the original.
        np.testing.assert_array_equal(array, weight.numpy())
    history = model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert clone_history == history  # Same optimizer state, same next steps, bit for bit.
    for weight, cloned in zip(model.weights, clone.weights):
        np.testing.assert_array_equal(weight.numpy(), cloned.numpy())
    assert int(clone.optimizer.iterations) == int(model.optimizer.iterations) == 20


class Scaler:
    def __init__(self):
        self.scale = tf.Variable(2.)

    @tf.function
    def __call__(self, x):
        return x * self.scale


@pytest.mark.parametrize("copier", [_pickle_copy, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_tf_function_methods_and_attributes_copy_without_their_plans(copier):
    scaler = Scaler()
    scaler.double = tf.function(lambda x: x * 2.) if copier is copy.deepcopy else None
    scaler.alias = scaler.__call__  # A bound tf.function method held by the instance.
    for _ in range(3):
        scaler(tf.constant([1., 2.]))
    assert scaler.__call__.plan_sources()

    clone = copier(scaler)
    clone.scale.assign(3.)
    assert clone(tf.constant([1., 2.])).numpy().tolist() == [3., 6.]
    assert scaler(tf.constant([1., 2.])).numpy().tolist() == [2., 4.]
    bound = clone.__call__
    assert bound.experimental_get_tracing_count() == 1  # Traced anew, for the clone.
    assert clone.alias is bound and clone.alias(tf.constant(1.)).numpy() == 3.
    if clone.double is not None:
        assert clone.double(tf.constant(1.)).numpy() == 2.


@pytest.mark.parametrize("copier", [_pickle_copy, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_optimizer_state_is_keyed_to_the_copied_variables(copier):
    variables = [tf.Variable([1., 2.]), tf.Variable([3.])]
    optimizer = keras.optimizers.AdamW(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_list=[variables[1]])
    optimizer.apply_gradients(zip([tf.constant([1., 1.]), tf.constant([1.])], variables))

    clone_variables, clone = copier((variables, optimizer))
    assert [optimizer._use_weight_decay(v) for v in variables] == [True, False]
    assert [clone._use_weight_decay(v) for v in clone_variables] == [True, False]
    gradients = [tf.constant([0.5, -1.]), tf.constant([2.])]
    optimizer.apply_gradients(zip(gradients, variables))
    clone.apply_gradients(zip(gradients, clone_variables))
    assert len(clone.variables) == len(optimizer.variables) == 5  # No new slots.
    for original, copied in zip(variables + optimizer.variables,
                                clone_variables + clone.variables):
        np.testing.assert_array_equal(original.numpy(), copied.numpy())


def test_a_compiled_plan_refuses_to_be_copied():
    function = tf.function(lambda x: x + 1.)
    for _ in range(3):
        function(tf.constant(1.))
    plan = next(iter(function._signatures.values())).plan
    with pytest.raises(TypeError, match="compiled plan cannot be pickled or copied"):
        copy.deepcopy(plan)
    copied = copy.deepcopy(function)
    assert copied.plan_sources() == [] and float(copied(tf.constant(1.))) == 2.
