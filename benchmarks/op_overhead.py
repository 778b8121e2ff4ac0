"""Per-op eager cost of numpyflow versus the raw NumPy computation it wraps.

Run:  python3 benchmarks/op_overhead.py

For each op, prints the median time per call of:
  numpy_us      the NumPy computation alone (for conv2d: numpyflow's own im2col + GEMM kernel
                called on plain arrays, so the difference is pure dispatch cost; for matmul:
                np.matmul with the BLAS thread count numpyflow's policy picks, since with
                default threads a small GEMM can be many times slower on a busy machine);
  numpyflow_us  the numpyflow op on Tensors, no tape;
  overhead_us   numpyflow_us - numpy_us: conversion, dispatch and Tensor wrapping;
  with_tape_us  the numpyflow op recorded by a GradientTape (a watched input).
Times are medians over many batches of calls (time.perf_counter); the whole run takes a few
seconds. Noisy machines give noisy numbers: compare runs, not single digits.

Allocator note: glibc serves each multi-megabyte array (conv2d's column matrix) with a fresh
mmap, and the page faults of touching it can cost more than the convolution itself, until the
process has once freed a larger block (which raises glibc's mmap threshold). Training loops
do that anyway (loading and batching data), so `main` frees one 16 MB block first, and the
numbers describe that steady state. Pass --cold-allocator to skip it.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpyflow as tf  # noqa: E402
from numpyflow.backend import blas  # noqa: E402
from numpyflow.ops import conv_ops  # noqa: E402

BUDGET_S = 0.8  # Per measurement; five ops x three measurements stay well under 30 s.


def median_us(fn, budget_s=BUDGET_S):
    """Median time per call of `fn`, in microseconds, over batches sized to ~1 ms."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(1e-3 / once))
    samples = []
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples) * 1e6


def recorded(op, watched, *others):
    """A zero-argument callable running `op(watched, *others)` recorded by a fresh tape, as
    in a training step (so it includes entering the tape and watching: ~2 us)."""
    def run():
        with tf.GradientTape() as tape:
            tape.watch(watched)
            return op(watched, *others)
    return run


def main():
    if "--cold-allocator" not in sys.argv:
        scratch = np.ones(4 * 2 ** 20, np.float32)  # See "Allocator note" above.
        del scratch
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    a, b = f32(32, 128), f32(32, 128)
    x, w = f32(32, 784), f32(784, 128)
    logits = f32(32, 10)
    images, filters = f32(32, 28, 28, 1), f32(5, 5, 1, 6)
    lenet_attrs = dict(strides=(1, 1), dilations=(1, 1), pads=((2, 2), (2, 2)))

    def np_softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    cases = [
        ("add (32,128) f32", lambda: a + b, tf.add, a, b),
        ("matmul (32,784)x(784,128)", lambda: blas.matmul(x, w), tf.matmul, x, w),
        ("relu (32,128)", lambda: np.maximum(a, 0), tf.nn.relu, a),
        ("softmax (32,10)", lambda: np_softmax(logits), tf.nn.softmax, logits),
        ("conv2d LeNet-1 fwd", lambda: conv_ops._conv2d_forward(images, filters, **lenet_attrs),
         lambda t, f: tf.nn.conv2d(t, f, 1, "SAME"), images, filters),
    ]
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"{'op':<28}{'numpy_us':>10}{'numpyflow_us':>14}{'overhead_us':>13}"
          f"{'with_tape_us':>14}")
    for name, raw, op, first, *rest in cases:
        tensors = [tf.constant(v) for v in (first, *rest)]
        numpy_us = median_us(raw)
        eager_us = median_us(lambda: op(*tensors))
        tape_us = median_us(recorded(op, *tensors))
        print(f"{name:<28}{numpy_us:>10.1f}{eager_us:>14.1f}{eager_us - numpy_us:>13.1f}"
              f"{tape_us:>14.1f}")


if __name__ == "__main__":
    main()
