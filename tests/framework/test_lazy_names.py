"""The less common API loads on first use, so `import numpyflow` stays small (its import
time and resident memory are benchmarked), and behaves the same once loaded."""

import doctest
import subprocess
import sys

import numpy as np

import numpyflow as tf
from numpyflow.framework import lazy

_LOADED_ON_USE = ["numpyflow.ops.linalg_ops", "numpyflow.ops.control_flow_ops",
                  "numpyflow.ops.debug_ops", "numpyflow.ops.sort_ops",
                  "numpyflow.ops.segment_ops", "numpyflow.ops.math_more_ops",
                  "numpyflow.ops.manipulation_ops", "numpyflow.ops.stateful_random_ops",
                  "numpyflow.ops.normalization_ops", "numpyflow.image.detection",
                  "numpyflow.image.quality", "numpyflow.backend.numpy.recurrence",
                  "numpyflow.backend.numpy.batch_norm", "numpyflow.config",
                  "numpyflow.framework.module"]


def test_import_loads_none_of_the_lazy_modules():
    script = ("import sys, numpyflow; "
              f"print([m for m in {_LOADED_ON_USE!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_lazy_names_resolve_once_and_keep_their_dispatch():
    assert tf.sin is tf.sin and tf.math.sin is tf.math.sin
    assert float(tf.linalg.det([[2.0, 0.0], [0.0, 3.0]])) == 6.0
    assert hasattr(tf.sort, "__wrapped__") and not hasattr(tf.cond, "__wrapped__")
    inputs = tf.keras.Input((3,))
    model = tf.keras.Model(inputs, tf.math.cumprod(tf.roll(inputs, 1, axis=1), axis=1))
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), [[3.0, 3.0, 6.0]])


def test_unknown_names_still_raise_attribute_error():
    for namespace in (tf, tf.math, tf.nn, tf.image, tf.random):
        try:
            namespace.no_such_name
        except AttributeError as error:
            assert "no_such_name" in str(error)
        else:
            raise AssertionError(f"{namespace.__name__}.no_such_name resolved")


def test_docstring():
    assert doctest.testmod(lazy).failed == 0
