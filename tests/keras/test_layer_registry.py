"""Every public Keras layer passes the standard checks, and none is left without them.

The cases are the table in `tests/keras/layer_cases.py`; `test_every_public_layer_has_a_case`
walks `numpyflow.keras.layers` and fails for a layer class with neither a case there nor an
entry, with its reason, in `NOT_APPLICABLE` below.
"""

import inspect
import json

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers
from tests.keras.layer_cases import CASES
from tests.keras.layer_test import run_layer_test

pytestmark = pytest.mark.usefixtures("fresh_names")

# Public layers that cannot go through `run_layer_test`, each with the reason and the test
# that checks it instead.
NOT_APPLICABLE = {
    # A functional model's op call: its output shape comes from running the op on the
    # call's (symbolic) arguments, so `compute_output_shape` refuses by design.
    # Checked by `test_tf_op_lambda_standard_checks` below.
    layers.TFOpLambda,
    # RNN cells are called on (inputs, states) one step at a time, not on a tensor: each is
    # checked through an `RNN` case in rnn_layer_cases.py and directly (shapes, config,
    # gradients) in tests/keras/test_rnn_layers.py.
    layers.SimpleRNNCell, layers.LSTMCell, layers.GRUCell, layers.StackedRNNCells,
}


def public_layer_classes():
    """Each layer class `numpyflow.keras.layers` exports, once (aliases such as
    `MaxPool2D is MaxPooling2D` count once), without the abstract `Layer` and models."""
    classes = []
    for name in sorted(dir(layers)):
        value = getattr(layers, name)
        if (inspect.isclass(value) and issubclass(value, layers.Layer)
                and value is not layers.Layer and not issubclass(value, tf.keras.Model)
                and value not in classes):
            classes.append(value)
    return classes


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_standard_layer_checks(case):
    run_layer_test(**case.run_layer_test_kwargs())


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"layer_cases.py: duplicate case ids {duplicates}; add a `label`."


def test_every_public_layer_has_a_case():
    covered = {case.cls for case in CASES} | NOT_APPLICABLE
    missing = [cls.__name__ for cls in public_layer_classes() if cls not in covered]
    assert not missing, (
        f"Public layers without a standard check: {missing}. Add a `LayerCase` line for "
        f"each to tests/keras/layer_cases.py (or, if one truly cannot go through "
        f"run_layer_test, an entry with the reason in NOT_APPLICABLE).")


def test_cases_and_exceptions_name_public_layers():
    public = set(public_layer_classes())
    stale = sorted(cls.__name__ for cls in {case.cls for case in CASES} | NOT_APPLICABLE
                   if cls not in public)
    assert not stale, f"Cases or NOT_APPLICABLE entries for non-public layers: {stale}"
    both = sorted(cls.__name__ for cls in NOT_APPLICABLE & {case.cls for case in CASES})
    assert not both, f"Layers both in NOT_APPLICABLE and with a case: {both}"


def test_tf_op_lambda_standard_checks():
    """What `run_layer_test` checks, for `TFOpLambda`: its output shape without data comes
    from calling it on KerasTensors instead of from `compute_output_shape`."""
    x = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    layer = layers.TFOpLambda(tf.nn.relu, "nn.relu")
    outputs = layer(tf.constant(x))
    assert layer.built
    np.testing.assert_allclose(outputs.numpy(), np.maximum(x, 0))
    assert tuple(layer(tf.keras.Input((3,))).shape) == (None, 3)
    assert layer.weights == []

    config = layer.get_config()
    json.dumps(config)
    clone = layers.TFOpLambda.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_allclose(clone(tf.constant(x)).numpy(), outputs.numpy())

    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = tf.reduce_mean(tf.square(layer(inputs)))
    grad = tape.gradient(loss, inputs)
    np.testing.assert_allclose(grad.numpy(), 2 * np.maximum(x, 0) / x.size, rtol=1e-6)
