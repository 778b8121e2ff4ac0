"""Behaviour of the tf.math gap fill beyond the op cases: special-function accuracy and
special values, TF's dtype rules and error messages, result tuples, gradients at the
awkward points (zeros, ties), tf.function plans and Keras symbolic inputs.

The expected special values and messages were read from TF 2.21.
"""

import doctest
import importlib
import math
import statistics

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend import special

InvalidArgument = tf.errors.InvalidArgumentError


def _grad(fn, *values):
    xs = [tf.constant(np.asarray(v, np.float64)) for v in values]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs)
    return [None if g is None else g.numpy() for g in tape.gradient(y, xs)]


# -- special-function kernels --------------------------------------------------------------

def test_lgamma_matches_the_standard_library_over_a_wide_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 3000), rng.uniform(0, 3, 1000),
                        10 ** rng.uniform(-300, 300, 300)])
    x = x[x != np.floor(x)]
    expected = np.array([math.lgamma(v) for v in x])
    error = np.abs(special.lgamma(x) - expected) / np.maximum(1, np.abs(expected))
    assert error.max() < 1e-12


def test_special_values_follow_tf():
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(
        special.lgamma(np.array([0., -0., -1., 1., 2., inf, -inf, nan])),
        [inf, inf, inf, 0., 0., inf, inf, nan])
    np.testing.assert_array_equal(special.digamma(np.array([0., -1., -inf, inf])),
                                  [nan, nan, nan, inf])
    np.testing.assert_array_equal(
        special.polygamma(np.array([2., 2., 1., 1., 0.5, -1.]),
                          np.array([-1., 0., inf, 0., 2., 2.])),
        [nan, nan, 0., inf, nan, nan])
    np.testing.assert_array_equal(special.erfinv(np.array([-1., 1., 1.5, 0.])),
                                  [-inf, inf, nan, 0.])
    np.testing.assert_array_equal(special.ndtri(np.array([0., 1., 1.5])), [-inf, inf, nan])


def test_digamma_and_polygamma_at_closed_forms():
    gamma, pi = np.euler_gamma, np.pi
    np.testing.assert_allclose(
        special.digamma(np.array([1., 0.5, 0.25, 10., -0.5])),
        [-gamma, -gamma - 2 * math.log(2), -gamma - pi / 2 - 3 * math.log(2),
         -gamma + sum(1 / k for k in range(1, 10)), 2 - gamma - 2 * math.log(2)],
        rtol=1e-13)
    zeta3 = 1.2020569031595942
    np.testing.assert_allclose(
        special.polygamma(np.array([1., 1., 2., 3., 1.]), np.array([1., 0.5, 1., 1., -0.5])),
        [pi ** 2 / 6, pi ** 2 / 2, -2 * zeta3, pi ** 4 / 15, pi ** 2 / 2 + 4], rtol=1e-13)


def test_ndtri_and_erfinv_to_full_precision():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(0, 1, 2000), 10 ** rng.uniform(-300, -1, 200),
                        1 - 10 ** rng.uniform(-15, -1, 200)])
    expected = np.array([statistics.NormalDist().inv_cdf(v) for v in p])
    assert (np.abs(special.ndtri(p) - expected) / np.maximum(1, np.abs(expected))).max() < 1e-12
    y = np.concatenate([rng.uniform(-1, 1, 2000), 10 ** rng.uniform(-300, -1, 200)])
    back = np.array([math.erf(v) for v in special.erfinv(y)])
    assert (np.abs(back - y) / np.abs(y)).max() < 1e-14
    near_one = 1 - 10 ** rng.uniform(-15, -1, 200)
    back = np.array([math.erfc(v) for v in special.erfinv(near_one)])
    assert (np.abs(back - (1 - near_one)) / (1 - near_one)).max() < 1e-12


# -- element-wise ops: dtypes and errors ---------------------------------------------------

@pytest.mark.parametrize("op", [tf.math.sin, tf.math.ceil, tf.math.rint, tf.math.is_nan,
                                tf.math.lgamma, tf.math.erfc, tf.math.log_sigmoid,
                                tf.math.reciprocal_no_nan])
def test_integer_inputs_raise_naming_the_op(op):
    with pytest.raises(InvalidArgument, match=r"expects a floating-point tensor.*int32"):
        op(tf.constant([1, 2]))


def test_binary_float_ops_reject_integers_and_mixed_dtypes():
    with pytest.raises(InvalidArgument, match=r"\[Op:Atan2\]"):
        tf.math.atan2([1, 2], [1, 2])
    with pytest.raises(InvalidArgument, match=r"\[Op:MulNoNan\]"):
        tf.math.multiply_no_nan(tf.constant([1.]), tf.constant([1.], tf.float64))


def test_float16_and_float64_keep_their_dtype():
    for dtype in (tf.float16, tf.float64):
        x = tf.constant([0.5, 1.5], dtype)
        for op in (tf.sin, tf.math.lgamma, tf.math.digamma, tf.math.erfinv, tf.math.ndtri,
                   tf.math.ceil):
            assert op(x).dtype == dtype


def test_xlogy_family_at_zero_and_its_gradient():
    np.testing.assert_array_equal(tf.math.xlogy([0., 0., 1.], [0., -1., 0.]).numpy(),
                                  [0., 0., -np.inf])
    np.testing.assert_array_equal(tf.math.xdivy([0., 1.], [0., 0.]).numpy(), [0., np.inf])
    dx, dy = _grad(tf.math.xlogy, [0., 1.], [0., 2.])
    np.testing.assert_allclose(dx, [0., math.log(2.)])
    np.testing.assert_allclose(dy, [0., 0.5])


def test_multiply_no_nan_gradient_as_tf():
    dx, dy = _grad(tf.math.multiply_no_nan, [np.inf, 2.], [0., 3.])
    np.testing.assert_array_equal(dx, [0., 3.])
    np.testing.assert_array_equal(dy, [np.inf, 2.])


def test_truncating_division():
    assert tf.truncatediv([7, -7, 7], [2, 2, -2]).numpy().tolist() == [3, -3, -3]
    assert tf.truncatemod([7, -7, 7], [2, 2, -2]).numpy().tolist() == [1, -1, 1]
    assert tf.truncatediv(tf.constant([7], tf.uint8), tf.constant([2], tf.uint8)).numpy() == 3
    with pytest.raises(InvalidArgument, match=r"Integer division by zero \[Op:TruncateDiv\]"):
        tf.truncatediv([7], [0])
    assert _grad(tf.truncatediv, [7.], [2.]) == [None, None]


def test_realdiv_and_scalar_mul():
    np.testing.assert_allclose(tf.realdiv([1.], [4.]).numpy(), [0.25])
    with pytest.raises(InvalidArgument, match=r"floating-point.*\[Op:RealDiv\]"):
        tf.realdiv([1], [4])
    assert tf.math.scalar_mul(2, tf.constant([1., 2.])).dtype == tf.float32
    with pytest.raises(ValueError, match="0-D"):
        tf.math.scalar_mul(tf.constant([2., 3.]), [1., 2.])


# -- scans and reductions ------------------------------------------------------------------

def test_cumprod_gradient_is_right_at_zeros():
    # TF divides by x (div_no_nan) and gets 0 where the true derivative is not.
    x = np.array([1., 0., 3., 2., 0.5])
    (grad,) = _grad(tf.math.cumprod, x)
    numeric = [sum(np.prod(np.delete(x[:j + 1], i)) for j in range(i, 5)) for i in range(5)]
    np.testing.assert_allclose(grad, numeric)
    # Worked by hand: out = [x1 x2 x3, x2 x3, x3, 1] and out = [x0 x1 x2, x1 x2, x2].
    (grad,) = _grad(lambda t: tf.math.cumprod(t, exclusive=True, reverse=True),
                    [0., 2., 0., 4.])
    np.testing.assert_allclose(grad, [0., 0., 2. * 4. + 4., 1.])
    (grad,) = _grad(lambda t: tf.math.cumprod(t, reverse=True), [2., 0., 3.])
    np.testing.assert_allclose(grad, [0., 2. * 3. + 3., 1.])


def test_cumprod_axis_error():
    with pytest.raises(InvalidArgument, match=r"range \[-1, 1\), but got 1 .*\[Op:Cumprod\]"):
        tf.math.cumprod([1., 2.], axis=1)


def test_cumulative_logsumexp_does_not_underflow():
    out = tf.math.cumulative_logsumexp(tf.constant([-1000., 0., 1.], tf.float64),
                                       exclusive=True).numpy()
    np.testing.assert_allclose(out, [-np.inf, -1000., np.log1p(np.exp(-1000.))])
    (grad,) = _grad(lambda t: tf.math.cumulative_logsumexp(t)[-1], [-1000., 0., 1.])
    np.testing.assert_allclose(grad, np.exp([-1001., -1., 0.]) / (np.exp(-1.) + 1.) *
                               np.array([1., 1., 1.]), rtol=1e-12)


def test_reductions_and_predicates():
    assert tf.math.reduce_euclidean_norm([3, 4, 1]).numpy() == 5  # Truncated, int32 as TF.
    np.testing.assert_allclose(tf.math.reduce_euclidean_norm([[3., 4.], [6., 8.]], axis=1),
                               [5., 10.])
    assert tf.math.zero_fraction([0, 1, 0]).dtype == tf.float32
    assert np.isnan(tf.math.zero_fraction(tf.zeros([0])).numpy())
    assert float(tf.nn.zero_fraction([True, False, False])) == pytest.approx(2 / 3)
    assert bool(tf.math.is_non_decreasing([1, 1, 2])) and bool(tf.math.is_non_decreasing([]))
    assert not bool(tf.math.is_strictly_increasing([1, 1, 2]))
    assert bool(tf.math.is_strictly_increasing([[1, 2], [3, 4]]))
    with pytest.raises(TypeError, match="numeric"):
        tf.math.is_non_decreasing(["a"])
    np.testing.assert_allclose(tf.nn.l2_normalize([[3., 4.], [0., 0.]], axis=1),
                               [[0.6, 0.8], [0., 0.]])
    assert tf.math.polyval([1, 2], 3).numpy() == 5
    assert float(tf.math.polyval([], 2.)) == 0.


# -- ordering ops --------------------------------------------------------------------------

def test_top_k_result_ties_nan_and_errors():
    result = tf.math.top_k([[3., 1., 3., 2.], [0., np.nan, 5., 5.]], k=3)
    assert type(result).__name__ == "TopKV2" and tf.nn.top_k is tf.math.top_k
    np.testing.assert_array_equal(result.indices.numpy(), [[0, 2, 3], [2, 3, 0]])
    np.testing.assert_array_equal(result.values.numpy(), [[3., 3., 2.], [5., 5., 0.]])
    assert tf.math.top_k([1., 2.], k=1, index_type=tf.int64).indices.dtype == tf.int64
    with pytest.raises(InvalidArgument, match=r"Had 2, needed 3 \[Op:TopKV2\]"):
        tf.math.top_k([3., 1.], k=3)
    with pytest.raises(InvalidArgument, match=r"Need k >= 0, got -1"):
        tf.math.top_k([3., 1.], k=-1)
    with pytest.raises(InvalidArgument, match=r">= 1-D"):
        tf.math.top_k(3., k=1)


def test_top_k_gradient_goes_to_the_selected_entries():
    (grad,) = _grad(lambda t: tf.math.top_k(t, 2).values * [1., 10.],
                    [[1., 3., 2.], [4., 0., 5.]])
    np.testing.assert_array_equal(grad, [[0., 1., 10.], [10., 0., 1.]])


def test_in_top_k_counts_ties_at_the_boundary_as_in():
    out = tf.nn.in_top_k([0, 1, 5, -1, 0], [[1., 1., 0.], [0.5, 0.2, 0.1], [1., 2., 3.],
                                            [1., 2., 3.], [np.inf, 1., 0.]], 1)
    assert out.numpy().tolist() == [True, False, False, False, False]


def test_sort_and_argsort():
    x = np.random.default_rng(2).normal(size=(3, 4, 5)).astype(np.float32)
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(tf.sort(x, axis=axis).numpy(), np.sort(x, axis=axis))
        np.testing.assert_array_equal(tf.argsort(x, axis=axis).numpy(),
                                      np.argsort(x, axis=axis, kind="stable"))
    assert tf.argsort([3, 1, 3, 1], direction="DESCENDING").numpy().tolist() == [0, 2, 1, 3]
    assert tf.sort(tf.constant([3, 0, 255], tf.uint8)).numpy().tolist() == [0, 3, 255]
    extremes = tf.constant([0, np.iinfo(np.int64).min, np.iinfo(np.int64).max], tf.int64)
    assert tf.argsort(extremes).numpy().tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match="direction=UP"):
        tf.sort([3, 1], direction="UP")
    with pytest.raises(ValueError, match="rank >= 1"):
        tf.argsort(3.)
    with pytest.raises(TypeError, match="bool"):
        tf.sort([True, False])


def test_unique_and_counts():
    result = tf.unique(tf.constant([1., np.nan, np.nan, 1.]), out_idx=tf.int64)
    assert type(result).__name__ == "Unique" and result.idx.dtype == tf.int64
    assert result.idx.numpy().tolist() == [0, 1, 2, 0]  # Each NaN is distinct, as TF.
    words = tf.unique([b"b", b"a", b"b"])
    assert words.y.numpy().tolist() == [b"b", b"a"] and words.idx.numpy().tolist() == [0, 1, 0]
    counted = tf.unique_with_counts([3, 1, 3])
    assert type(counted).__name__ == "UniqueWithCounts"
    assert counted.count.numpy().tolist() == [2, 1]
    with pytest.raises(InvalidArgument, match=r"unique expects a 1D vector"):
        tf.unique([[1, 1]])


def test_searchsorted_errors():
    with pytest.raises(InvalidArgument, match=r"Leading dim_size of both tensors must match"):
        tf.searchsorted([[0., 3., 9.]], [[2., 9.], [1., 1.]])
    with pytest.raises(InvalidArgument, match=r"expected to be a float32 tensor"):
        tf.searchsorted(tf.constant([1., 2.]), tf.constant([1, 2]))
    with pytest.raises(ValueError, match="side"):
        tf.searchsorted([1., 2.], [1.], side="middle")


def test_invert_permutation_errors():
    with pytest.raises(InvalidArgument, match=r"2 is duplicated in the input"):
        tf.math.invert_permutation([2, 2, 1])
    with pytest.raises(InvalidArgument, match=r"3 is not between 0 and 3"):
        tf.math.invert_permutation([3, 0, 1])


# -- segments, bincount, confusion matrix, histograms ----------------------------------------

def test_sorted_segment_errors_and_empty_segments():
    for bad, message in (([0, 2, 1], "segment ids are not increasing"),
                         ([-1, 0, 1], r"Segment id -1 out of range"),
                         ([0, 1], "should be the same size as dimension 0")):
        with pytest.raises(InvalidArgument, match=message):
            tf.math.segment_sum([1., 2., 3.], bad)
    np.testing.assert_array_equal(tf.math.segment_max([-1., -2., -3.], [0, 0, 2]), [-1., 0., -3.])
    np.testing.assert_array_equal(tf.math.segment_prod([2., 3.], [1, 1]), [1., 6.])
    assert tf.math.segment_mean([1, 2], [0, 0]).numpy().tolist() == [1]  # int stays int


def test_unsorted_segment_ops():
    data = [1., 2., 3.]
    np.testing.assert_array_equal(tf.math.unsorted_segment_sum(data, [0, -1, 2], 4),
                                  [1., 0., 3., 0.])
    with pytest.raises(InvalidArgument, match=r"segment_ids\[1\] = 7 is out of range \[0, 4\)"):
        tf.math.unsorted_segment_max(data, [0, 7, 2], 4)
    with pytest.raises(InvalidArgument, match=r"\[Op:UnsortedSegmentSum\]"):
        tf.math.unsorted_segment_sum(data, [0, 7, 2], 4)
    assert tf.math.unsorted_segment_mean([1, 2, 3], [0, 0, 2], 4).dtype == tf.float64
    np.testing.assert_allclose(tf.math.unsorted_segment_sqrt_n(data, [0, 0, 2], 3),
                               [3. / math.sqrt(2.), 0., 3.])
    np.testing.assert_array_equal(
        tf.math.unsorted_segment_sum([[1., 2.], [3., 4.]], [[0, 1], [1, 1]], 2), [1., 9.])


def test_segment_gradients_with_ties_and_zeros():
    (grad,) = _grad(lambda d: tf.math.segment_max(d, [0, 0, 1]), [2., 2., 1.])
    np.testing.assert_array_equal(grad, [0.5, 0.5, 1.])  # Tied maxima share, as TF.
    (grad,) = _grad(lambda d: tf.math.unsorted_segment_prod(d, [0, 0, 0, 1, 1], 2),
                    [0., 2., 3., 0., 0.])
    np.testing.assert_array_equal(grad, [6., 0., 0., 0., 0.])
    (grad,) = _grad(lambda d: tf.math.unsorted_segment_max(d, [0, -1, 0, 1], 2),
                    [1., 5., 3., 2.])
    np.testing.assert_array_equal(grad, [0., 0., 1., 1.])  # The dropped row gets none.


def test_bincount_variants_and_errors():
    assert tf.math.bincount([[1, 1], [0, 2]]).numpy().tolist() == [1, 2, 1]
    assert tf.math.bincount([[1, 1], [0, 2]], axis=-1).numpy().tolist() == [[0, 2, 0],
                                                                              [1, 0, 1]]
    assert tf.math.bincount([1, 1, 3], binary_output=True).numpy().tolist() == [0, 1, 0, 1]
    np.testing.assert_array_equal(
        tf.math.bincount([1, 1, 3], weights=[0.5, 1., 2.], minlength=6, maxlength=3),
        [0., 1.5, 0.])
    assert tf.math.bincount(tf.constant([], tf.int32)).shape == (0,)
    assert tf.math.bincount([1, 1], dtype=tf.float32).dtype == tf.float32
    with pytest.raises(InvalidArgument, match=r"Input arr must be non-negative! "
                                              r"\[Op:DenseBincount\]"):
        tf.math.bincount([1, -1])
    with pytest.raises(ValueError, match="mutually exclusive"):
        tf.math.bincount([1], weights=[1.], binary_output=True)


def test_confusion_matrix():
    np.testing.assert_array_equal(tf.math.confusion_matrix([1, 2, 0], [1, 1, 0]),
                                  [[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    weighted = tf.math.confusion_matrix([1, 2], [1, 1], num_classes=3, weights=[0.5, 2.],
                                        dtype=tf.float32)
    np.testing.assert_array_equal(weighted, [[0., 0., 0.], [0., 0.5, 0.], [0., 2., 0.]])
    with pytest.raises(InvalidArgument, match="`labels` contains negative values"):
        tf.math.confusion_matrix([1, -2], [1, 1])
    with pytest.raises(InvalidArgument, match="`predictions` out of bound"):
        tf.math.confusion_matrix([1, 0], [1, 5], num_classes=3)


def test_confusion_matrix_takes_float_ids_and_a_squeezable_axis_as_tf():
    # TF casts the ids to int64 (rounded outputs are floats) and squeezes a trailing axis of 1
    # when the ranks differ by one (Keras labels of shape [batch, 1]).
    np.testing.assert_array_equal(tf.math.confusion_matrix([0., 1.7], [0., 1.]), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(tf.math.confusion_matrix([[0], [1]], [0, 1]), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(tf.math.confusion_matrix([0, 1], [[1], [1]]), [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="1-D"):
        tf.math.confusion_matrix([[0, 1]], [[1, 1]])
    with pytest.raises(TypeError, match="integer or floating"):
        tf.math.confusion_matrix([True], [False])


def test_histograms():
    values = [-1., 0., 1.5, 2., 5., 15.]
    assert tf.histogram_fixed_width(values, [0., 5.], nbins=5).numpy().tolist() == [2, 1, 1, 0, 2]
    assert tf.histogram_fixed_width_bins(values, [0., 5.], nbins=5).numpy().tolist() == [
        0, 0, 1, 2, 4, 4]
    assert tf.histogram_fixed_width([1, 2, 3], [0, 5], nbins=5).numpy().tolist() == [0, 1, 1,
                                                                                    1, 0]
    with pytest.raises(InvalidArgument, match=r"value_range\[0\] < value_range\[1\]"):
        tf.histogram_fixed_width([1.], [5., 0.], nbins=5)
    with pytest.raises(InvalidArgument, match="nbins should be a positive number"):
        tf.histogram_fixed_width([1.], [0., 5.], nbins=0)


# -- tf.function and Keras ------------------------------------------------------------------

def test_ops_compile_into_a_plan_and_stay_right_for_new_values():
    @tf.function
    def step(x, ids):
        top = tf.math.top_k(x, k=2)
        ordered = tf.sort(x, axis=0, direction="DESCENDING")
        scanned = tf.math.cumprod(tf.math.sin(x), axis=1)
        segments = tf.math.unsorted_segment_max(x, ids, 3)
        normal = tf.math.l2_normalize(x, axis=1) + tf.math.lgamma(tf.abs(x) + 1.)
        return (tf.reduce_sum(top.values) + tf.cast(tf.reduce_sum(top.indices), tf.float32) +
                tf.reduce_sum(ordered[0]) + tf.reduce_sum(scanned) + tf.reduce_sum(segments) +
                tf.reduce_sum(normal))

    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = tf.constant(rng.normal(size=(3, 4)), tf.float32)
        ids = tf.constant(rng.permutation([0, 1, 2]), tf.int32)
        np.testing.assert_allclose(step(x, ids).numpy(), step.__wrapped__(x, ids).numpy(),
                                   rtol=1e-5)
    assert step.eager_reasons() == []


def test_keras_symbolic_inputs_build_models():
    x = tf.keras.Input((4,))
    y = tf.math.sin(tf.sort(x, direction="DESCENDING")) + tf.math.top_k(x, k=4).values
    model = tf.keras.Model(x, y)
    data = np.array([[0.1, 0.5, -0.3, 0.2]], np.float32)
    ordered = -np.sort(-data, axis=-1)
    np.testing.assert_allclose(model(data).numpy(), np.sin(ordered) + ordered, rtol=1e-6)


# -- docstrings -----------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["numpyflow.ops.math_more_ops", "numpyflow.ops.sort_ops",
                                    "numpyflow.ops.segment_ops"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 10


def test_special_kernel_docstring_examples():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for name in ("lgamma", "digamma", "polygamma", "ndtri", "erfinv"):
        for test in finder.find(getattr(special, name), name,
                                globs={"np": np, name: getattr(special, name)}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries == 5


def test_composed_extras():
    np.testing.assert_allclose(tf.math.erfcinv(tf.constant([0.5, 1.5], tf.float64)),
                               [special.erfinv(np.array(0.5)), -special.erfinv(np.array(0.5))],
                               rtol=1e-14)
    np.testing.assert_allclose(tf.math.lbeta([[1., 1.], [2., 3.]]), [0., math.log(2. / 24.)],
                               rtol=1e-6)
    assert tf.math.lbeta(tf.zeros([2, 0])).numpy().tolist() == [-np.inf, -np.inf]
    np.testing.assert_array_equal(tf.math.accumulate_n([[1., 2.], [3., 4.]]), [4., 6.])
    with pytest.raises(ValueError, match="shape"):
        tf.math.accumulate_n([[1., 2.]], shape=[3])


def test_approx_k_is_exact_top_k_along_any_axis():
    x = np.random.default_rng(5).normal(size=(4, 6)).astype(np.float32)
    values, indices = tf.math.approx_max_k(x, 2, reduction_dimension=0)
    np.testing.assert_array_equal(values.numpy(), -np.sort(-x, axis=0)[:2])
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-x, axis=0, kind="stable")[:2])
    values, indices = tf.math.approx_min_k(x, 3)
    np.testing.assert_array_equal(values.numpy(), np.sort(x, axis=1)[:, :3])
    (grad,) = _grad(lambda t: tf.math.approx_min_k(t, 1)[0], [[2., 1., 3.]])
    np.testing.assert_array_equal(grad, [[0., 1., 0.]])


def test_ops_with_data_dependent_shapes_stay_right_in_tf_function():
    # Their output shapes follow the values: the function runs eagerly when they change.
    @tf.function
    def f(x, ids):
        y, idx = tf.unique(x)
        return y, idx, tf.math.segment_sum(x, ids), tf.math.bincount(tf.cast(x, tf.int32))

    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = tf.constant(rng.integers(0, 4, 6).astype(np.float32))
        ids = tf.constant(np.sort(rng.integers(0, 3 + seed, 6)), tf.int32)
        for got, want in zip(f(x, ids), f.__wrapped__(x, ids)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_confusion_matrix_checks_labels_on_every_call_of_a_plan():
    @tf.function
    def matrix(labels, predictions):
        return tf.math.confusion_matrix(labels, predictions, num_classes=3)

    for seed in range(3):
        rng = np.random.default_rng(seed)
        labels = tf.constant(rng.integers(0, 3, 5), tf.int32)
        predictions = tf.constant(rng.integers(0, 3, 5), tf.int32)
        np.testing.assert_array_equal(matrix(labels, predictions).numpy(),
                                      matrix.__wrapped__(labels, predictions).numpy())
    assert matrix.eager_reasons() == []
    with pytest.raises(InvalidArgument, match="`labels` out of bound"):
        matrix(tf.constant([0, 1, 2, 5, 0]), tf.constant([0, 1, 2, 1, 0]))


def test_outputs_sized_by_the_data_refuse_more_than_the_memory_left():
    # One huge id would make NumPy allocate lazily and the OS kill the process while the
    # array is written; TF's allocator raises ResourceExhaustedError instead, and so do these.
    with pytest.raises(tf.errors.ResourceExhaustedError, match=r"OOM when allocating tensor "
                                                               r"with shape\[1,4294967296\]"):
        tf.math.bincount(tf.constant([2 ** 32 - 1], tf.int64))
    with pytest.raises(tf.errors.ResourceExhaustedError, match=r"\[Op:SegmentSum\]"):
        tf.math.segment_sum(tf.ones((2, 4000)), [0, 2 ** 30])
    with pytest.raises(tf.errors.ResourceExhaustedError, match=r"\[Op:UnsortedSegmentMax\]"):
        tf.math.unsorted_segment_max(tf.ones(2), [0, 1], 2 ** 36)
