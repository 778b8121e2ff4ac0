"""keras.constraints: values, lookup, `variable.constraint`, and constraints kept by fit."""

import json

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import constraints
from tests.keras.layer_test import run_layer_test

EPSILON = 1e-7
W = np.array([[3.0, -0.1, 0.0], [4.0, 0.2, -2.0]], np.float32)


def _norms(w, axis):
    return np.sqrt(np.square(w.astype(np.float64)).sum(axis=axis, keepdims=True))


def _max_norm(w, max_value, axis):
    norms = _norms(w, axis)
    return w * (np.clip(norms, 0, max_value) / (EPSILON + norms))


def _min_max_norm(w, low, high, rate, axis):
    norms = _norms(w, axis)
    desired = rate * np.clip(norms, low, high) + (1 - rate) * norms
    return w * (desired / (EPSILON + norms))


@pytest.mark.parametrize("constraint, expected", [
    (constraints.MaxNorm(2.0), _max_norm(W, 2.0, 0)),
    (constraints.MaxNorm(1.0, axis=1), _max_norm(W, 1.0, 1)),
    (constraints.max_norm(0.5, axis=[0, 1]), _max_norm(W, 0.5, (0, 1))),
    (constraints.NonNeg(), np.maximum(W, 0)),
    (constraints.UnitNorm(), W / (EPSILON + _norms(W, 0))),
    (constraints.UnitNorm(axis=1), W / (EPSILON + _norms(W, 1))),
    (constraints.MinMaxNorm(0.5, 1.0), _min_max_norm(W, 0.5, 1.0, 1.0, 0)),
    (constraints.MinMaxNorm(1.0, 4.0, rate=0.5, axis=1), _min_max_norm(W, 1.0, 4.0, 0.5, 1)),
    (constraints.Constraint(), W),
])
def test_values_match_numpy(constraint, expected):
    value = constraint(tf.constant(W))
    assert value.dtype == tf.float32 and value.shape == W.shape
    np.testing.assert_allclose(value.numpy(), expected, rtol=1e-5, atol=1e-7)


# -- lookup and serialization ------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("max_norm", constraints.MaxNorm), ("non_neg", constraints.NonNeg),
    ("unit_norm", constraints.UnitNorm), ("min_max_norm", constraints.MinMaxNorm),
    ("MaxNorm", constraints.MaxNorm), ("NonNeg", constraints.NonNeg)])
def test_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_defaults_and_aliases_are_keras_s():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0,
                                                     "rate": 1.0, "axis": 0}
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm


def test_get_passes_objects_and_callables_through():
    non_neg = constraints.NonNeg()
    assert constraints.get(non_neg) is non_neg
    assert constraints.get(None) is None
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)

    def clip(w):
        return tf.clip_by_value(w, -1., 1.)

    assert constraints.get(clip) is clip


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown constraint: 'nonneg'.*'max_norm'.*'non_neg'"):
        constraints.get("nonneg")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: 2"):
        constraints.get(2)
    with pytest.raises(ValueError, match="Unknown constraint"):
        tf.keras.layers.Dense(2, kernel_constraint="positive")


@pytest.mark.parametrize("constraint", [
    constraints.MaxNorm(3, axis=[0, 1]), constraints.NonNeg(), constraints.UnitNorm(1),
    constraints.MinMaxNorm(0.1, 2.0, 0.5, 1)])
def test_serialize_round_trip(constraint):
    config = constraints.serialize(constraint)
    assert json.loads(json.dumps(config)) == config
    clone = constraints.deserialize(config)
    assert type(clone) is type(constraint) and clone.get_config() == constraint.get_config()
    assert constraints.deserialize({"class_name": config["class_name"],
                                    "config": config["config"]}).get_config() == \
        constraint.get_config()


def test_dense_config_round_trip(fresh_names):
    layer = tf.keras.layers.Dense(3, kernel_constraint="max_norm",
                                  bias_constraint=constraints.NonNeg())
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert tf.keras.layers.Dense.from_config(config).get_config() == config


def test_dense_with_constraints_passes_the_layer_test(fresh_names):
    run_layer_test(tf.keras.layers.Dense,
                   {"units": 3, "kernel_constraint": "unit_norm", "bias_constraint": "non_neg"},
                   input_shape=(2, 4), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=2)


# -- on variables and in training ---------------------------------------------------------------

def test_add_weight_puts_the_constraint_on_the_variable():
    layer = tf.keras.layers.Dense(2, kernel_constraint="non_neg")
    layer.build((None, 3))
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    assert layer.bias.constraint is None


def test_variable_constraint_argument():
    v = tf.Variable([1.0, -1.0], constraint=constraints.NonNeg())
    assert isinstance(v.constraint, constraints.NonNeg)
    assert tf.Variable(1.0).constraint is None
    with pytest.raises(ValueError, match="constraint.*must be callable. Received: "
                                         "constraint='non_neg'"):
        tf.Variable(1.0, constraint="non_neg")


def test_optimizer_applies_the_constraint_after_the_update():
    v = tf.Variable([0.5, 0.5], constraint=constraints.NonNeg())
    tf.keras.optimizers.SGD(1.0).apply_gradients([(tf.constant([1.0, -1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.0, 1.5])


def _data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    # Targets that want negative weights and large norms, so the constraints must act.
    y = (x @ rng.standard_normal((6, 3)) * -5.0).astype(np.float32)
    return x, y


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_constraints_hold_after_fit(run_eagerly):
    tf.random.set_seed(3)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(3, input_shape=(6,), kernel_constraint="non_neg",
                              bias_constraint=constraints.NonNeg()),
        tf.keras.layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.5)),
    ])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse", run_eagerly=run_eagerly)
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    first, second = model.layers
    assert (first.kernel.numpy() >= 0).all() and (first.bias.numpy() >= 0).all()
    assert (first.kernel.numpy() == 0).any()  # The constraint did clip something.
    column_norms = np.linalg.norm(second.kernel.numpy(), axis=0)
    assert (column_norms <= 0.5 + 1e-5).all()
    assert column_norms.max() == pytest.approx(0.5, rel=1e-4)  # ...and did bind.
