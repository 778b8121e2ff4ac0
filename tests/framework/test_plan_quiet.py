"""A plan silences NumPy once per call and calls the forwards `backend.quiet` wraps directly."""

import warnings

import numpy as np

import numpyflow as tf
from numpyflow.framework import plan


def compiled(function, *args):
    function(*args)
    function(*args)  # Two traces that agree: the next call runs the plan.
    return function


def test_quiet_forwards_are_called_unwrapped():
    from numpyflow.framework.primitive import _REGISTRY
    assert _REGISTRY["Exp"].forward is not np.exp       # Eagerly: a quiet wrapper ...
    assert plan._plan_form(_REGISTRY["Exp"].forward) is np.exp   # ... which plans skip.
    matmul = _REGISTRY["MatMul"].forward
    assert plan._plan_form(matmul) is matmul.__wrapped__
    assert plan._plan_form(np.add) is np.add             # Not wrapped: as it is.


def test_a_plan_computes_inf_silently_and_keeps_the_callers_error_state():
    def step(x):
        return tf.math.log(x * 0.), tf.exp(x * 1000.), tf.matmul(x, x) / 0.

    x = np.full((2, 2), 3., np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # The traces run eagerly, with their own wrappers.
        function = compiled(tf.function(step), x)
    assert "f_Log(" in function.plan_sources()[0]
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # A RuntimeWarning would fail the test.
        with np.errstate(all="raise"):  # Nor may the plan raise FloatingPointError.
            log, exp, ratio = function(x)
            assert np.geterr()["divide"] == "raise"  # The caller's state, back after the call.
    assert np.geterr() == before
    assert np.all(log.numpy() == -np.inf) and np.all(exp.numpy() == np.inf)
    assert np.all(ratio.numpy() == np.inf)


def test_quiet_ufuncs_write_into_dead_buffers_with_the_same_values():
    def step(x):
        return tf.sqrt(tf.exp(x * 2.) / (x + 1.))

    x = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    eager = step(tf.constant(x)).numpy()
    function = compiled(tf.function(step), x)
    source = function.plan_sources()[0]
    assert "f_Exp(t0, out=t0)" in source and "f_Sqrt(" in source and "out=" in source.split(
        "f_Sqrt(")[1].split("\n")[0]
    np.testing.assert_array_equal(function(x).numpy(), eager)
