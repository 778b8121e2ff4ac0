"""Lambda and Identity layers."""

import json

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import Identity, Lambda
from tests.keras.layer_test import run_layer_test

x = np.arange(12, dtype=np.float32).reshape(2, 6) / 10


def double(inputs):
    return inputs * 2.0


def test_lambda_layer():
    run_layer_test(Lambda, {"function": lambda t: t ** 2}, (2, 6), (2, 6), 0, input_data=x,
                   expected_output=x ** 2, config_round_trip=False)
    run_layer_test(Lambda, {"function": lambda t: tf.reshape(t, (-1, 2, 3))}, (2, 6),
                   (2, 2, 3), 0, input_data=x, expected_output=x.reshape(2, 2, 3),
                   config_round_trip=False)
    run_layer_test(Lambda, {"function": lambda t, scale: t * scale, "arguments": {"scale": 3.}},
                   (2, 6), (2, 6), 0, input_data=x, expected_output=3 * x,
                   config_round_trip=False)


def test_lambda_on_a_list_of_inputs():
    y = x[:, :3]
    run_layer_test(Lambda, {"function": lambda ts: tf.concat([ts[0], ts[1] * 2.], axis=-1)},
                   [(2, 6), (2, 3)], (2, 9), 0, input_data=[x, y],
                   expected_output=np.concatenate([x, 2 * y], axis=-1), config_round_trip=False)
    shapes = Lambda(lambda ts: [ts[0], ts[1]]).compute_output_shape([(None, 6), (None, 3)])
    assert [tuple(s) for s in shapes] == [(None, 6), (None, 3)]


def test_lambda_output_shape_inference():
    """Output dims that follow an unknown input dim stay unknown; others are computed."""
    layer = Lambda(lambda t: tf.reduce_sum(t, axis=1, keepdims=True))
    assert layer.compute_output_shape((None, 5)) == (None, 1)
    assert layer.compute_output_shape((4, 5)) == (4, 1)
    seq = Lambda(lambda t: t[:, :, :2])
    assert seq.compute_output_shape((None, None, 7)) == (None, None, 2)
    flat = Lambda(lambda t: tf.reshape(t, (tf.shape(t)[0], -1)))
    assert flat.compute_output_shape((None, 3, 4)) == (None, 12)


def test_lambda_output_shape_argument():
    calls = []

    def fn(t):
        calls.append(t)
        return t

    assert Lambda(fn, output_shape=(6,)).compute_output_shape((None, 6)) == (None, 6)
    assert Lambda(fn, output_shape=[7, None]).compute_output_shape((3, 6)) == (3, 7, None)
    assert Lambda(fn, output_shape=lambda s: (s[0], 2 * s[1])).compute_output_shape(
        (None, 6)) == (None, 12)
    assert calls == []  # A given output_shape is used as is; the function is not run.
    shapes = Lambda(fn, output_shape=[(2,), (3, 4)]).compute_output_shape((None, 6))
    assert [tuple(s) for s in shapes] == [(None, 2), (None, 3, 4)]


def test_lambda_shape_inference_failure_asks_for_output_shape():
    def needs_six(t):
        if t.shape[1] != 6:
            raise ValueError("wrong size")
        return t

    layer = Lambda(needs_six, name="picky")
    with pytest.raises(NotImplementedError, match=r"Lambda layer 'picky': could not infer the "
                                                  r"shape.*wrong size.*`output_shape`"):
        layer.compute_output_shape((None, None))


def test_lambda_passes_training_only_to_functions_that_take_it():
    seen = []

    def fn(t, training=None):
        seen.append(training)
        return t

    layer = Lambda(fn)
    layer(x, training=True)
    layer(x)
    assert seen == [True, None]
    assert Lambda(double)(x, training=True).numpy().tolist() == (2 * x).tolist()


def test_lambda_config_names_the_function_and_refuses_to_load():
    layer = Lambda(double, output_shape=(6,), arguments={"unused": 1}, name="doubler")
    config = layer.get_config()
    json.dumps(config)
    assert config["function"] == "tests.keras.test_lambda_layer.double"
    assert config["output_shape"] == (6,)
    assert config["arguments"] == {"unused": 1}
    assert config["name"] == "doubler"
    with pytest.raises(ValueError, match=r"`Lambda` layer cannot be created from a config: its "
                                         r"function .*double.* is Python code.*subclass of "
                                         r"`keras.layers.Layer`"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match="cannot be created from a config"):
        Lambda.from_config(json.loads(json.dumps(config)))
    lambda_config = Lambda(lambda t: t, output_shape=lambda s: s,
                           arguments={"w": np.ones(2)}).get_config()
    json.dumps(lambda_config)  # Objects become their repr or name, never unloadable objects.
    assert lambda_config["function"].endswith("<lambda>")


def test_lambda_argument_errors():
    with pytest.raises(ValueError, match=r"`function` must be callable. Received: function=3"):
        Lambda(3)
    with pytest.raises(NotImplementedError, match=r"`mask` argument is not supported"):
        Lambda(double, mask=lambda inputs, mask: mask)
    with pytest.raises(ValueError, match=r"`arguments` must be a dict"):
        Lambda(double, arguments=[1, 2])
    with pytest.raises(ValueError, match=r"`output_shape` must be a tuple"):
        Lambda(double, output_shape="6")
    with pytest.raises(ValueError, match=r"`output_shape` must be a tuple"):
        Lambda(double, output_shape=(6, -1))


def test_lambda_trains_inside_a_sequential_model(fresh_names):
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(4, input_shape=(6,)),
        Lambda(lambda t: tf.nn.relu(t) * 0.5),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="sgd", loss="mse")
    y = x.sum(-1, keepdims=True)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    assert tuple(model.layers[1].output_shape) == (None, 4)


def test_identity_layer():
    run_layer_test(Identity, {}, (2, 6), (2, 6), 0, input_data=x, expected_output=x)
    run_layer_test(Identity, {}, (2, 3, 4), (2, 3, 4), 0)
    outputs = Identity()([x, x[:, :2]])
    assert [tuple(o.shape) for o in outputs] == [(2, 6), (2, 2)]
    shapes = Identity().compute_output_shape([(None, 6), (None, 2)])
    assert [tuple(s) for s in shapes] == [(None, 6), (None, 2)]


def test_lambda_and_identity_in_a_functional_model(fresh_names):
    inputs = tf.keras.Input((6,))
    halves = Lambda(lambda t: [t[:, :3], t[:, 3:]])(inputs)
    assert [tuple(h.shape) for h in halves] == [(None, 3), (None, 3)]
    summed = Lambda(lambda ts: ts[0] + ts[1])(halves)
    dense = tf.keras.layers.Dense(2)
    outputs = Identity()(dense(summed))
    assert tuple(outputs.shape) == (None, 2)
    model = tf.keras.Model(inputs, outputs)
    expected = (x[:, :3] + x[:, 3:]) @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5)
