"""One helper to check an op: forward against NumPy, gradient against finite differences.

Each op test is one line in a `cases_*.py` module:

    case("Exp", tf.exp, np.exp, rand(3, 4))

`test_ops.py` runs every case and fails if any registered primitive has none.
"""

import dataclasses

import numpy as np

import numpyflow as tf
from numpyflow.framework import primitive as primitive_module

_rng = np.random.default_rng(1234)


def rand(*shape, low=-2.0, high=2.0):
    """float64 values uniform in [low, high)."""
    return _rng.uniform(low, high, size=shape)


def positive(*shape, low=0.5, high=2.0):
    return _rng.uniform(low, high, size=shape)


def away_from_zero(*shape, margin=0.2):
    """Values with |x| > margin, for ops with a kink at 0 (relu, abs, ...)."""
    values = rand(*shape)
    return np.where(np.abs(values) < margin, np.sign(values + 1e-12) * (margin + 0.3), values)


def distinct(*shape):
    """A random permutation of well-separated values, for max/min/sort-like ops."""
    return _rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) * 0.37 - 1


@dataclasses.dataclass
class OpCase:
    primitive: str
    fn: object
    reference: object
    inputs: tuple
    grad: bool
    id: str
    rtol: float
    atol: float


def case(primitive, fn, reference, *inputs, grad=None, id=None, rtol=1e-6, atol=1e-7):
    """Declares one check of the registered primitive `primitive`.

    Args:
      primitive: The registry name the call must run (e.g. "MatMul").
      fn: Calls the numpyflow op on Tensors made from `inputs`.
      reference: Computes the expected value with NumPy from the same arrays.
      *inputs: NumPy arrays; float64 ones are differentiated. A case with no float64 input
        (integer, bool or float32 inputs) checks the forward only.
      grad: None (default) checks gradients by finite differences whenever there are float64
        inputs and a floating output; False asserts the op passes no gradient (TF gives None).
    """
    return OpCase(primitive, fn, reference, inputs, grad, id or primitive, rtol, atol)


def check(op_case):
    tensors = [tf.constant(a) for a in op_case.inputs]
    ran = set()
    primitive_module.trace_hook = ran.add
    try:
        out = op_case.fn(*tensors)
    finally:
        primitive_module.trace_hook = None
    assert op_case.primitive in ran, (
        f"case {op_case.id!r} did not run primitive {op_case.primitive}; it ran {sorted(ran)}")
    expected = np.asarray(op_case.reference(*op_case.inputs))
    actual = np.asarray(out.numpy())
    assert actual.shape == expected.shape, f"{op_case.id}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{op_case.id}: dtype {actual.dtype} != {expected.dtype}"
    if actual.dtype == object:  # tf.string: bytes compare exactly.
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=op_case.rtol, atol=op_case.atol)
    float_positions = [i for i, a in enumerate(op_case.inputs) if a.dtype == np.float64]
    if op_case.grad is False:
        _check_no_gradient(op_case, float_positions)
    elif float_positions and actual.dtype.kind == "f":
        _check_gradient(op_case, float_positions)


def _check_gradient(op_case, positions, step=1e-6):
    arrays = [np.array(a) for a in op_case.inputs]
    upstream = _rng.normal(size=np.shape(op_case.reference(*arrays)))
    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for i in positions:
            tape.watch(tensors[i])
        out = op_case.fn(*tensors)
    analytic = tape.gradient(out, [tensors[i] for i in positions],
                             output_gradients=tf.constant(upstream))

    def objective():
        value = op_case.fn(*[tf.constant(a) for a in arrays]).numpy()
        return float(np.sum(np.asarray(value, dtype=np.float64) * upstream))

    for i, grad in zip(positions, analytic):
        numeric = np.zeros_like(arrays[i])
        flat, numeric_flat = arrays[i].reshape(-1), numeric.reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + step
            plus = objective()
            flat[j] = saved - step
            minus = objective()
            flat[j] = saved
            numeric_flat[j] = (plus - minus) / (2 * step)
        assert grad is not None, f"{op_case.id}: no gradient for input {i}"
        assert grad.shape == arrays[i].shape, f"{op_case.id}: gradient shape for input {i}"
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{op_case.id}: gradient of input {i}")


def _check_no_gradient(op_case, positions):
    assert positions, f"{op_case.id}: grad=False needs a float64 input to check"
    tensors = [tf.constant(a) for a in op_case.inputs]
    with tf.GradientTape() as tape:
        for i in positions:
            tape.watch(tensors[i])
        out = op_case.fn(*tensors)
    if out.dtype.is_floating:
        grads = tape.gradient(out, [tensors[i] for i in positions])
        assert all(g is None for g in grads), f"{op_case.id}: expected no gradient"
