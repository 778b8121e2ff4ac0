"""keras.regularizers, Layer.add_loss, activity regularization and `losses` in training."""

import json

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import regularizers
from tests.keras.layer_test import run_layer_test

W = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 0.0]], np.float32)


# -- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("regularizer, expected", [
    (regularizers.L1(0.3), 0.3 * np.abs(W).sum()),
    (regularizers.L2(0.2), 0.2 * np.square(W).sum()),
    (regularizers.L1L2(l1=0.1, l2=0.4), 0.1 * np.abs(W).sum() + 0.4 * np.square(W).sum()),
    (regularizers.L1L2(l2=0.4), 0.4 * np.square(W).sum()),
    (regularizers.L1L2(), 0.0),
    (regularizers.l1_l2(), 0.01 * np.abs(W).sum() + 0.01 * np.square(W).sum()),
    (regularizers.l1(), 0.01 * np.abs(W).sum()),
    (regularizers.l2(0.5), 0.5 * np.square(W).sum()),
])
def test_values_match_numpy(regularizer, expected):
    value = regularizer(tf.constant(W))
    assert value.dtype == tf.float32 and value.shape == ()
    np.testing.assert_allclose(float(value), expected, rtol=1e-6)


def _orthogonal_reference(w, factor, mode):
    w = w.astype(np.float64)
    if mode == "columns":
        w = w.T
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    products = unit @ unit.T
    n = w.shape[0]
    off_diagonal = np.abs(products * (1 - np.eye(n))).sum()
    return factor * 0.5 * off_diagonal / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_numpy(mode):
    w = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    value = regularizers.OrthogonalRegularizer(0.2, mode=mode)(tf.constant(w))
    np.testing.assert_allclose(float(value), _orthogonal_reference(w, 0.2, mode), rtol=1e-5)


def test_orthogonal_regularizer_errors():
    with pytest.raises(ValueError, match="mode.*Received: mode='diagonal'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(tf.ones((2, 2, 2)))


def test_regularizer_gradient_matches_numpy():
    w = tf.Variable(W)
    with tf.GradientTape() as tape:
        penalty = regularizers.L1L2(l1=0.1, l2=0.4)(w)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(),
                               0.1 * np.sign(W) + 0.8 * W, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: regularizers.L1(-1.), lambda: regularizers.L2("big"),
                                  lambda: regularizers.L1L2(l1=float("nan"))])
def test_invalid_factors_raise(make):
    with pytest.raises(ValueError, match="non-negative float. Received"):
        make()


# -- lookup and serialization ------------------------------------------------------------------

@pytest.mark.parametrize("name, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01}),
    ("l2", regularizers.L2, {"l2": 0.01}),
    ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),
    ("L2", regularizers.L2, {"l2": 0.01}),
    ("orthogonal_regularizer", regularizers.OrthogonalRegularizer,
     {"factor": 0.01, "mode": "rows"}),
])
def test_get_by_name(name, cls, config):
    regularizer = regularizers.get(name)
    assert type(regularizer) is cls and regularizer.get_config() == config


def test_get_passes_objects_and_callables_through():
    l2 = regularizers.L2(0.3)
    assert regularizers.get(l2) is l2
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)

    def custom(x):
        return tf.reduce_sum(x)

    assert regularizers.get(custom) is custom


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown regularizer: 'l3'.*'l1'.*'l1_l2'.*'l2'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: 3"):
        regularizers.get(3)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        tf.keras.layers.Dense(2, kernel_regularizer="l3")


@pytest.mark.parametrize("regularizer", [
    regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.2),
    regularizers.OrthogonalRegularizer(0.5, "columns")])
def test_serialize_round_trip(regularizer):
    config = regularizers.serialize(regularizer)
    assert json.loads(json.dumps(config)) == config
    assert config["class_name"] == type(regularizer).__name__
    clone = regularizers.deserialize(config)
    assert type(clone) is type(regularizer) and clone.get_config() == regularizer.get_config()
    assert regularizers.get(config).get_config() == regularizer.get_config()


def test_deserialize_older_config_form_and_custom_objects():
    assert regularizers.deserialize({"class_name": "L2", "config": {"l2": 0.5}}).l2 == 0.5

    class Scaled(regularizers.Regularizer):
        def __init__(self, factor=1.0):
            self.factor = factor

        def __call__(self, x):
            return self.factor * tf.reduce_sum(x)

        def get_config(self):
            return {"factor": self.factor}

    clone = regularizers.deserialize({"class_name": "Scaled", "config": {"factor": 2.0}},
                                     custom_objects={"Scaled": Scaled})
    assert isinstance(clone, Scaled) and clone.factor == 2.0


@pytest.mark.parametrize("kwargs", [
    {"kernel_regularizer": "l2"},
    {"kernel_regularizer": "l1_l2", "bias_regularizer": regularizers.L1(0.3),
     "activity_regularizer": "l2"},
])
def test_dense_config_round_trip(kwargs, fresh_names):
    layer = tf.keras.layers.Dense(3, **kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert tf.keras.layers.Dense.from_config(config).get_config() == config


@pytest.mark.parametrize("kwargs", [
    {"kernel_regularizer": "l2"},
    {"kernel_regularizer": "l1", "bias_regularizer": "l2", "activity_regularizer": "l1_l2"},
])
def test_dense_with_regularizers_passes_the_layer_test(kwargs, fresh_names):
    run_layer_test(tf.keras.layers.Dense, {"units": 3, **kwargs}, input_shape=(2, 4),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=2)


# -- layer.losses ------------------------------------------------------------------------------

def test_keras_docstring_example():
    # Keras's documented numbers: kernel penalty 0.25, activity penalty 5.0 (batch of 5).
    layer = tf.keras.layers.Dense(5, input_dim=5, kernel_initializer="ones",
                                  kernel_regularizer=regularizers.L1(0.01),
                                  activity_regularizer=regularizers.L2(0.01))
    layer(tf.ones((5, 5)) * 2.0)
    assert float(tf.add_n(layer.losses)) == pytest.approx(5.25)
    assert sorted(round(float(loss), 4) for loss in layer.losses) == [0.25, 5.0]


def test_weight_penalty_follows_the_current_value():
    layer = tf.keras.layers.Dense(2, kernel_regularizer=regularizers.L2(0.5), use_bias=False)
    assert layer.losses == []  # Not built: no weights yet.
    layer.build((None, 3))
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(penalty), 0.5 * np.square(layer.kernel.numpy()).sum(),
                               rtol=1e-6)
    layer.kernel.assign(np.ones((3, 2), np.float32))
    assert float(layer.losses[0]) == pytest.approx(3.0)


def test_frozen_weights_are_not_penalized():
    layer = tf.keras.layers.Dense(2, kernel_regularizer="l2", bias_regularizer="l2")
    layer.build((None, 3))
    assert len(layer.losses) == 2
    layer.trainable = False
    assert layer.losses == []


def test_model_losses_collect_all_layers():
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(4, kernel_regularizer="l2", input_shape=(3,)),
        tf.keras.layers.Dense(2, bias_regularizer=regularizers.L1(0.5),
                              bias_initializer="ones"),
    ])
    expected = [0.01 * np.square(model.layers[0].kernel.numpy()).sum(), 0.5 * 2]
    np.testing.assert_allclose([float(loss) for loss in model.losses], expected, rtol=1e-6)


def test_activity_penalty_is_divided_by_the_batch_size():
    layer = tf.keras.layers.Dense(2, kernel_initializer="ones", use_bias=False,
                                  activity_regularizer=regularizers.L1(0.1))
    for batch in (1, 4):
        outputs = layer(tf.ones((batch, 3)))
        (penalty,) = layer.losses  # The previous call's penalty is replaced, not added to.
        assert float(penalty) == pytest.approx(0.1 * np.abs(outputs.numpy()).sum() / batch)


def test_base_layer_takes_activity_regularizer():
    layer = tf.keras.layers.Layer(activity_regularizer="l2")
    layer(tf.ones((2, 3)))
    assert float(layer.losses[0]) == pytest.approx(0.01 * 6 / 2)
    config = layer.get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    assert tf.keras.layers.Layer.from_config(config).get_config() == config


# -- add_loss ----------------------------------------------------------------------------------

class SumPenalty(tf.keras.layers.Layer):
    """Adds 0.1 * sum(inputs) as a loss."""

    def call(self, inputs):
        self.add_loss(0.1 * tf.reduce_sum(inputs))
        return inputs


def test_add_loss_replaces_the_previous_calls_losses():
    layer = SumPenalty()
    layer(tf.ones((2, 2)))
    assert [round(float(loss), 4) for loss in layer.losses] == [0.4]
    layer(tf.ones((1, 2)))
    assert [round(float(loss), 4) for loss in layer.losses] == [0.2]


def test_outer_call_clears_inner_layers_and_a_shared_layer_adds_twice():
    shared = SumPenalty()

    class Twice(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = shared

        def call(self, inputs):
            return self.inner(self.inner(inputs) * 2.0)

    outer = Twice()
    for _ in range(2):  # The second call's losses replace the first's.
        outer(tf.ones((1, 3)))
        assert [round(float(loss), 4) for loss in outer.losses] == [0.3, 0.6]
        assert len(shared.losses) == 2


def test_add_loss_rejects_non_tensors():
    class Bad(tf.keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1.0)
            return inputs

    with pytest.raises(ValueError, match="Layer 'bad'.*add_loss.*Received: 1.0"):
        Bad(name="bad")(tf.ones((1, 1)))


def test_losses_are_cleared_when_a_call_fails():
    layer = SumPenalty()
    layer(tf.ones((1, 2)))

    class Failing(tf.keras.layers.Layer):
        def call(self, inputs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Failing()(tf.ones((1, 2)))
    # The failed call left no outer call open: this call is outermost and clears again.
    layer(tf.ones((1, 3)))
    assert [round(float(loss), 4) for loss in layer.losses] == [0.3]


# -- training ----------------------------------------------------------------------------------

def _data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 1)) * 3.0).astype(np.float32)
    return x, y


def _dense_model(regularizer, run_eagerly):
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(1, input_shape=(5,), kernel_initializer="ones",
                              kernel_regularizer=regularizer)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse",
                  run_eagerly=run_eagerly)
    return model


def _fit_dense(regularizer, run_eagerly, epochs=5):
    model = _dense_model(regularizer, run_eagerly)
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, shuffle=False)
    return model, history.history["loss"]


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_fit_with_l2_reports_a_higher_loss_and_shrinks_the_weights(run_eagerly):
    plain, plain_loss = _fit_dense(None, run_eagerly)
    regularized, regularized_loss = _fit_dense(regularizers.L2(0.5), run_eagerly)
    assert regularized_loss[-1] > plain_loss[-1]
    assert np.linalg.norm(regularized.layers[0].kernel.numpy()) < \
        np.linalg.norm(plain.layers[0].kernel.numpy())


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_the_step_loss_includes_the_penalty(run_eagerly):
    # Same weights before the step: the reported losses differ by exactly the penalty.
    x, y = _data()
    plain = _dense_model(None, run_eagerly).train_on_batch(x, y)
    regularized = _dense_model(regularizers.L2(0.5), run_eagerly).train_on_batch(x, y)
    assert regularized - plain == pytest.approx(0.5 * 5, rel=1e-5)


def test_fit_compiles_the_regularized_step_into_a_plan():
    model, losses = _fit_dense("l2", run_eagerly=False)
    assert model.train_function.plan_sources()
    assert model.train_function.eager_reasons() == []
    eager_model, eager_losses = _fit_dense("l2", run_eagerly=True)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)


class PullTowardsThree(tf.keras.layers.Layer):
    """Identity on the data; its only weight is trained by the loss it adds."""

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(), initializer="zeros")

    def call(self, inputs):
        self.add_loss(tf.square(self.w - 3.0))
        return inputs + 0.0 * self.w


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_fit_minimizes_add_loss(run_eagerly):
    tf.random.set_seed(2)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(5,)),
                                 PullTowardsThree()])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly)
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    # 20 SGD steps on (w - 3)^2: w = 3 * (1 - (1 - 2 * 0.1) ** 20), the penalty counted once.
    assert float(model.layers[1].w) == pytest.approx(3.0 * (1 - 0.8 ** 20), rel=1e-5)
    if not run_eagerly:
        assert model.train_function.plan_sources()  # The later steps ran the compiled plan.
