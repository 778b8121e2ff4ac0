"""The fast paths of calling layers and models: the same results and errors as the slow ones.

Layer.__call__ skips conversion for a Tensor of the layer's dtype, input_spec checks
remember the last shape that passed, Sequential remembers the last compatible input shape,
CallbackList skips empty hook lists and predict runs a tf.function: each is checked here
against the behaviour it must keep.
"""

import logging
import re

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


def tutorial_model():
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


# -- Layer.__call__ and input_spec ----------------------------------------------------------

def test_a_shape_that_passed_does_not_hide_a_bad_one():
    layer = keras.layers.Dense(2, name="head")
    for _ in range(2):
        layer(tf.zeros((1, 4)))
        with pytest.raises(ValueError, match=r'"head".*axis -1.*value 4.*\(3, 5\)'):
            layer(tf.zeros((3, 5)))
        with pytest.raises(ValueError, match=r'"head".*min_ndim=2.*\(4,\)'):
            layer(tf.zeros((4,)))


def test_editing_an_input_spec_is_seen_on_the_next_call():
    layer = keras.layers.Dense(2, name="head")
    layer(tf.zeros((1, 4)))
    layer.input_spec.axes[-1] = 5  # Edited in place.
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 5"):
        layer(tf.zeros((1, 4)))
    layer.input_spec.axes[-1] = 4
    layer(tf.zeros((1, 4)))
    layer.input_spec.min_ndim = 3  # Reassigned.
    with pytest.raises(ValueError, match=r"expected min_ndim=3, found ndim=2"):
        layer(tf.zeros((1, 4)))


def test_inputs_of_another_dtype_still_convert():
    layer = keras.layers.Dense(2)
    assert layer(np.zeros((1, 3))).dtype == tf.float32            # float64 array: cast
    assert layer(tf.zeros((1, 3), dtype=tf.float64)).dtype == tf.float32
    assert layer(tf.Variable(np.zeros((1, 3), np.float32))).dtype == tf.float32
    # Integers and booleans are cast too, as Keras 3 casts them (fit on raw uint8 images).
    assert layer(tf.zeros((1, 3), dtype=tf.int32)).dtype == tf.float32
    assert layer(np.zeros((1, 3), np.uint8)).dtype == tf.float32
    assert layer(np.zeros((1, 3), bool)).dtype == tf.float32


def test_unbuilt_layer_builds_on_a_tensor_of_its_dtype():
    layer = keras.layers.Dense(3)
    assert not layer.built
    assert layer(tf.ones((2, 5))).shape == (2, 3)
    assert layer.built and layer.kernel.shape == (5, 3)


def test_training_argument_reaches_only_layers_that_take_it():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    model = keras.Sequential([keras.layers.Dense(2), Probe()])
    model(np.ones((1, 3), np.float32))  # Builds (compute_output_shape calls call()).
    seen.clear()
    model(np.ones((1, 3), np.float32), training=True)
    model(np.ones((1, 3), np.float32))
    assert seen == [True, None]


# -- Sequential's built-shape warning -------------------------------------------------------

def _incompatible_warnings(caplog):
    return [r for r in caplog.records if "incompatible shape" in r.getMessage()]


@pytest.fixture
def numpyflow_log(caplog):
    logger = logging.getLogger("numpyflow")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_incompatible_shape_warns_after_compatible_calls(numpyflow_log):
    model = tutorial_model()
    model.build((None, 784))
    for batch in (1, 5, 1):
        model(np.zeros((batch, 784), np.float32))
    assert not _incompatible_warnings(numpyflow_log)
    model(np.zeros((2, 28, 28), np.float32))
    model(np.zeros((2, 28, 28), np.float32))
    warnings = _incompatible_warnings(numpyflow_log)
    assert len(warnings) == 1 and "(2, 28, 28)" in warnings[0].getMessage()


def test_rebuilding_checks_shapes_against_the_new_build(numpyflow_log):
    model = tutorial_model()
    model.build((None, 28, 28))
    model(np.zeros((1, 28, 28), np.float32))
    model.build((None, 784))  # Flatten then Dense keep their weights: only the shape changes.
    model(np.zeros((1, 28, 28), np.float32))
    assert len(_incompatible_warnings(numpyflow_log)) == 1


# -- CallbackList ---------------------------------------------------------------------------

def test_callback_list_appended_callbacks_get_their_hooks():
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_predict_begin(self, logs=None):
            events.append("predict_begin")

    callbacks = keras.callbacks.CallbackList([])
    callbacks.call("on_predict_begin", None)
    callbacks.append(Recorder())
    callbacks.call("on_predict_begin", None)
    assert events == ["predict_begin"] and callbacks.has("on_predict_begin")


# -- predict ---------------------------------------------------------------------------------

def test_compiled_predict_equals_eager_predict_bit_for_bit():
    x = np.random.default_rng(0).random((70, 28, 28), dtype=np.float32)
    model = tutorial_model()
    model(x[:1])
    # Batch by batch, as predict computes it (BLAS may round a 70-row product differently).
    eager = np.concatenate([model(x[i:i + 32]).numpy() for i in range(0, 70, 32)])
    for _ in range(3):  # Traced twice per batch shape, then run as a plan.
        np.testing.assert_array_equal(model.predict(x, batch_size=32, verbose=0), eager)
        np.testing.assert_array_equal(model.predict(x[:1], verbose=0), model(x[:1]).numpy())
        np.testing.assert_array_equal(model.predict_on_batch(x[:3]), model(x[:3]).numpy())
    assert model.predict_function.plan_sources()
    assert model.predict_function.eager_reasons() == []


def test_predict_runs_eagerly_when_asked():
    model = tutorial_model()
    model.compile("sgd", "mse", run_eagerly=True)
    assert model.make_predict_function() == model.predict_step
    model.run_eagerly = False
    assert model.make_predict_function().python_function == model.predict_step


def test_predict_keeps_its_errors():
    model = tutorial_model()
    with pytest.raises(ValueError, match=r"predict\(\) received empty input"):
        model.predict(np.zeros((0, 28, 28), np.float32), verbose=0)
    model.predict(np.zeros((2, 28, 28), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r'layer "dense".*expected axis -1.*value 784'):
        model.predict(np.zeros((2, 27, 27), np.float32), verbose=0)


def test_predict_prints_the_same_bar_traced_or_not(capsys):
    model = tutorial_model()
    x = np.zeros((70, 28, 28), np.float32)
    for _ in range(3):
        model.predict(x, verbose=2)
        assert re.fullmatch(r"3/3 - \d+s - \d+m?s/epoch - \d+[mu]?s/step\n",
                            capsys.readouterr().out)


# -- Sequential of numpyflow's own layers: model(x) runs a compiled plan ----------------------

def test_builtin_stack_call_is_compiled_and_matches_eager_bit_for_bit():
    model = tutorial_model()
    images = np.random.default_rng(0).random((5, 3, 28, 28), dtype=np.float32)
    outputs = [model(x) for x in images]
    assert model._call_function.plan_sources()
    for x, output in zip(images, outputs):
        np.testing.assert_array_equal(output.numpy(), model.call(tf.constant(x)).numpy())


def test_compiled_call_output_still_gives_the_loss_its_logits():
    model = tutorial_model()
    x = np.random.default_rng(1).random((4, 28, 28), dtype=np.float32) * 50.0  # Saturating.
    y = np.array([0, 1, 2, 3])
    loss = keras.losses.SparseCategoricalCrossentropy()
    for _ in range(3):
        compiled = float(loss(y, model(x)))
    with tf.GradientTape():  # Under a tape, the call runs eagerly.
        eager = float(loss(y, model(x)))
    assert compiled == eager


def test_stack_with_a_user_layer_runs_eagerly_every_call():
    calls = []

    class Counting(keras.layers.Layer):
        def call(self, inputs):
            calls.append(1)
            return inputs

    model = keras.Sequential([keras.layers.Dense(3), Counting()])
    model(np.ones((2, 4), np.float32))  # Builds.
    before = len(calls)
    for _ in range(5):
        model(np.ones((2, 4), np.float32))
    assert len(calls) == before + 5 and model._call_function is None
    model.pop()
    for _ in range(3):
        model(np.ones((2, 4), np.float32))
    assert model._call_function.plan_sources()


def test_gradients_flow_through_a_compiled_model_call():
    model = keras.Sequential([keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(1)])
    x = tf.constant(np.random.default_rng(2).random((4, 2), dtype=np.float32))
    for _ in range(3):
        model(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(model(x))
    grads = tape.gradient(y, model.trainable_variables)
    assert all(g is not None for g in grads)
    with tf.GradientTape() as tape:
        expected = tf.reduce_sum(model.call(x))
    for got, want in zip(grads, tape.gradient(expected, model.trainable_variables)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_compiled_call_with_dropout_draws_new_masks():
    model = keras.Sequential([keras.layers.Dropout(0.5)])
    x = np.ones((1, 64), np.float32)
    outputs = [model(x, training=True).numpy() for _ in range(5)]
    assert model._call_function.plan_sources()
    assert len({o.tobytes() for o in outputs}) == 5
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)


def test_adding_or_popping_a_layer_drops_the_compiled_plans():
    model = keras.Sequential([keras.layers.Dense(3)])
    model.compile("sgd", "mse")
    x, y = np.ones((2, 4), np.float32), np.zeros((2, 5), np.float32)
    for _ in range(3):
        model(x)
        model.predict(x, verbose=0)
    model.add(keras.layers.Dense(5))
    assert model(x).shape == (2, 5) and model.predict(x, verbose=0).shape == (2, 5)
    before = model.layers[-1].kernel.numpy()
    model.fit(np.ones((8, 4), np.float32), np.zeros((8, 5), np.float32), batch_size=2,
              verbose=0)
    assert not np.array_equal(before, model.layers[-1].kernel.numpy())
    model.pop()
    assert model(x).shape == (2, 3) and model.predict(x, verbose=0).shape == (2, 3)


def test_changing_an_inner_stack_drops_the_outer_models_plans():
    inner = keras.Sequential([keras.layers.Dense(3)])
    outer = keras.Sequential([inner, keras.layers.Activation("relu")])
    outer.compile("sgd", "mse")
    x = np.ones((2, 4), np.float32)
    for _ in range(3):
        outer(x)
        outer.predict(x, verbose=0)
        outer.fit(x, np.zeros((2, 3), np.float32), verbose=0)
    assert outer._call_function.plan_sources()
    inner.add(keras.layers.Dense(5))
    assert outer(x).shape == (2, 5) and outer.predict(x, verbose=0).shape == (2, 5)
    outer.fit(x, np.zeros((2, 5), np.float32), verbose=0)
    inner.pop()
    assert outer(x).shape == (2, 3)
    calls = []

    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            calls.append(1)
            return inputs * 2.0

    inner.add(Doubling())  # A user layer: the outer call now runs eagerly, its Python each time.
    before = len(calls)
    for _ in range(3):
        np.testing.assert_allclose(outer(x).numpy(),
                                   np.maximum(2.0 * inner.layers[0](x).numpy(), 0.0))
    assert len(calls) == before + 3
