"""Op cases for the tf.math gap fill: trigonometry, special functions, the x-log-y family,
truncating division, scans, ordering ops and segment reductions."""

import math
import statistics

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, distinct, positive, rand

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_inv_cdf = np.vectorize(statistics.NormalDist().inv_cdf, otypes=[np.float64])


def _digamma_reference(x, shift=1000):
    """psi by the recurrence and the leading asymptotic terms at a large argument: a
    different route from the kernel's (which shifts to 10 and sums more terms)."""
    z = x + shift
    head = sum(1.0 / (x + k) for k in range(shift))
    return np.log(z) - 0.5 / z - 1.0 / (12 * z * z) + 1.0 / (120 * z ** 4) - head


def _polygamma_reference(n, x, terms=20000):
    """(-1)^(n+1) n! sum_k 1/(x+k)^(n+1), the tail past `terms` by its integral."""
    k = np.arange(terms)
    head = np.sum(1.0 / (x[..., None] + k) ** (n + 1), axis=-1)
    z = x + terms
    tail = 1.0 / (n * z ** n) + 0.5 / z ** (n + 1)
    return (-1) ** (n + 1) * math.factorial(n) * (head + tail)


def _exclusive_reverse_cumprod(t):
    flipped = np.cumprod(t[..., ::-1], axis=-1)
    shifted = np.concatenate([np.ones_like(flipped[..., :1]), flipped[..., :-1]], axis=-1)
    return shifted[..., ::-1]


def _segment_reference(reduce, ids, num_segments, empty):
    def reference(data):
        out = np.full((num_segments,) + data.shape[1:], empty, dtype=data.dtype)
        for segment in range(num_segments):
            rows = data[np.asarray(ids) == segment]
            if len(rows):
                out[segment] = reduce(rows, axis=0)
        return out
    return reference


x = rand(3, 4)
inside_one = rand(3, 4, low=-0.9, high=0.9)
signed_positive = positive(3, 4) * np.array([1, -1, 1, -1])
with_zeros = np.array([[0., 1.5, 0., -2.], [3., 0., 0.5, 1.]], np.float32)
sorted_ids = [0, 0, 1, 3, 3]
unsorted_ids = [2, 0, -1, 2, 1]

CASES = [
    case("Sin", tf.math.sin, np.sin, x),
    case("Cos", tf.math.cos, np.cos, x),
    case("Tan", tf.math.tan, np.tan, rand(3, 4, low=-1.2, high=1.2)),
    case("Asin", tf.math.asin, np.arcsin, inside_one),
    case("Acos", tf.math.acos, np.arccos, inside_one),
    case("Atan", tf.math.atan, np.arctan, x),
    case("Sinh", tf.math.sinh, np.sinh, x),
    case("Cosh", tf.math.cosh, np.cosh, x),
    case("Asinh", tf.math.asinh, np.arcsinh, x),
    case("Acosh", tf.math.acosh, np.arccosh, positive(3, 4, low=1.2, high=3.0)),
    case("Atanh", tf.math.atanh, np.arctanh, inside_one),
    case("Atan2", tf.math.atan2, np.arctan2, rand(3, 4), signed_positive),
    case("Sin", tf.math.sin, np.sin, x.astype(np.float32), id="sin_float32", rtol=1e-6),
    case("Ceil", tf.math.ceil, np.ceil, x, grad=False),
    case("Rint", tf.math.rint, np.rint, np.array([0.5, 1.5, 2.5, -0.5, -1.7, 2.2]), grad=False),
    case("IsNan", tf.math.is_nan, np.isnan, np.array([1., np.nan, np.inf]), grad=False),
    case("IsInf", tf.math.is_inf, np.isinf, np.array([1., np.nan, -np.inf]), grad=False),
    case("IsFinite", tf.math.is_finite, np.isfinite, np.array([1., np.nan, np.inf]),
         grad=False),
    case("Lgamma", tf.math.lgamma, _lgamma, positive(3, 4, low=0.3, high=6.0), rtol=1e-12,
         atol=1e-12),
    case("Lgamma", tf.math.lgamma, _lgamma, rand(2, 3, low=-2.9, high=-2.1),
         id="lgamma_negative", rtol=1e-12, atol=1e-12),
    case("Digamma", tf.math.digamma, _digamma_reference, positive(3, 4, low=0.3, high=6.0),
         rtol=1e-12, atol=1e-12),
    case("Polygamma", lambda t: tf.math.polygamma(tf.constant([[1.], [2.], [3.]], tf.float64), t),
         lambda t: np.stack([_polygamma_reference(n, t[0]) for n in (1, 2, 3)]),
         positive(1, 4, low=0.4, high=6.0), rtol=1e-10),
    case("Erfc", tf.math.erfc, _erfc, x, rtol=1e-12),
    case("Erfinv", tf.math.erfinv, lambda t: _inv_cdf((t + 1) / 2) / math.sqrt(2), inside_one,
         rtol=1e-12, atol=1e-15),
    case("Ndtri", tf.math.ndtri, _inv_cdf, positive(3, 4, low=0.05, high=0.95), rtol=1e-12,
         atol=1e-15),
    case("Xlogy", tf.math.xlogy, lambda a, b: a * np.log(b), rand(3, 4), positive(3, 4)),
    case("Xlogy", tf.math.xlogy, lambda a, b: np.where(a == 0, 0, a * np.log(np.abs(b) + (b == 0))),
         with_zeros, np.array([[0., 2., -1., 3.], [1., 0., 2., 4.]], np.float32),
         id="xlogy_zero_x"),
    case("Xlog1py", tf.math.xlog1py, lambda a, b: a * np.log1p(b), rand(3, 4), positive(3, 4)),
    case("Xdivy", tf.math.xdivy, lambda a, b: a / b, rand(3, 4), signed_positive),
    case("Xdivy", tf.math.xdivy, lambda a, b: np.where(a == 0, 0, a / np.where(b == 0, 1, b)),
         with_zeros, np.array([[0., 2., 1., 3.], [1., 2., 2., 4.]], np.float32),
         id="xdivy_zero_x"),
    case("MulNoNan", tf.math.multiply_no_nan, np.multiply, rand(3, 4), signed_positive),
    case("MulNoNan", tf.math.multiply_no_nan,
         lambda a, b: np.where(b == 0, 0, np.where(b == 0, 0, a) * b),
         np.array([np.inf, np.nan, 2.], np.float32), np.array([0., 0., 3.], np.float32),
         id="multiply_no_nan_zero_y"),
    case("TruncateDiv", tf.truncatediv, lambda a, b: (np.trunc(a / b)).astype(np.int32),
         np.array([7, -7, 7, -7, 6], np.int32), np.array([2, 2, -2, -2, 3], np.int32)),
    case("TruncateDiv", tf.truncatediv, lambda a, b: np.trunc(a / b), rand(3, 4),
         signed_positive, grad=False, id="truncatediv_float"),
    case("TruncateMod", tf.truncatemod, np.fmod, np.array([7, -7, 7, -7], np.int32),
         np.array([2, 2, -2, -2], np.int32)),
    case("TruncateMod", tf.truncatemod, np.fmod, rand(3, 4), signed_positive, grad=False,
         id="truncatemod_float"),
    case("Cumprod", lambda t: tf.math.cumprod(t, axis=1), lambda t: np.cumprod(t, axis=1),
         rand(3, 4)),
    case("Cumprod", lambda t: tf.math.cumprod(t, axis=-1, exclusive=True, reverse=True),
         _exclusive_reverse_cumprod, rand(2, 5), id="cumprod_exclusive_reverse"),
    case("Cumprod", tf.math.cumprod, lambda t: np.cumprod(t, axis=0, dtype=np.int32),
         np.array([1, 2, 3, -1], np.int32), id="cumprod_ints"),
    case("CumulativeLogsumexp", lambda t: tf.math.cumulative_logsumexp(t, axis=1),
         lambda t: np.log(np.cumsum(np.exp(t), axis=1)), rand(3, 4)),
    # The last row of this exclusive scan is -inf (no terms): checked without it, since
    # finite differences of -inf are NaN.
    case("CumulativeLogsumexp",
         lambda t: tf.math.cumulative_logsumexp(t, axis=0, exclusive=True, reverse=True)[:-1],
         lambda t: np.log(np.cumsum(np.exp(t[::-1]), axis=0)[::-1][1:]),
         rand(4, 3), id="cumulative_logsumexp_exclusive_reverse"),
    case("TopKV2", lambda t: tf.math.top_k(t, k=2).values, lambda t: -np.sort(-t)[..., :2],
         distinct(3, 5)),
    case("TopKV2", lambda t: tf.math.top_k(t, k=3).indices,
         lambda t: np.array([[0, 2, 3]], np.int32), np.array([[5, 1, 5, 4]], np.int32),
         id="top_k_indices_ties"),
    case("TopKV2", lambda t: tf.sort(t, axis=0), lambda t: np.sort(t, axis=0), distinct(4, 3),
         id="sort_axis0"),
    case("TopKV2", lambda t: tf.sort(t, direction="DESCENDING"), lambda t: -np.sort(-t),
         distinct(2, 5), id="sort_descending"),
    case("TopKV2", tf.argsort, lambda t: np.argsort(t, kind="stable").astype(np.int32),
         np.array([3, 1, 3, 1, -5], np.int64), id="argsort_ties"),
    case("InTopKV2", lambda p: tf.math.in_top_k([0, 1, 2, 5], p, 2),
         lambda p: np.array([True, True, False, False]),
         np.array([[3., 1., 2.], [1., 1., 2.], [3., 2., 1.], [1., 2., 3.]], np.float32)),
    case("Unique", lambda t: tf.unique(t).y, lambda t: np.array([4, 1, 2], np.int32),
         np.array([4, 1, 4, 2, 1], np.int32)),
    case("Unique", lambda t: tf.unique(t).idx, lambda t: np.array([0, 1, 0, 2, 1], np.int32),
         np.array([4, 1, 4, 2, 1], np.int32), id="unique_idx"),
    case("UniqueWithCounts", lambda t: tf.unique_with_counts(t).count,
         lambda t: np.array([2, 2, 1], np.int32), np.array([4., 1., 4., 2., 1.], np.float32)),
    case("LowerBound", tf.searchsorted,
         lambda s, v: np.stack([np.searchsorted(a, b) for a, b in zip(s, v)]).astype(np.int32),
         np.array([[0., 3., 9.], [1., 2., 3.]], np.float32),
         np.array([[3., 10., -1.], [2., 2.5, 3.]], np.float32)),
    case("UpperBound", lambda s, v: tf.searchsorted(s, v, side="right"),
         lambda s, v: np.searchsorted(s, v, side="right").astype(np.int32),
         np.array([0, 3, 3, 9], np.int32), np.array([3, 10, -1], np.int32)),
    case("InvertPermutation", tf.math.invert_permutation,
         lambda t: np.argsort(t).astype(np.int32),
         np.array([3, 0, 2, 1], np.int32)),
    case("SegmentSum", lambda d: tf.math.segment_sum(d, sorted_ids),
         _segment_reference(np.sum, sorted_ids, 4, 0.), rand(5, 3)),
    case("SegmentMean", lambda d: tf.math.segment_mean(d, sorted_ids),
         _segment_reference(np.mean, sorted_ids, 4, 0.), rand(5, 3)),
    case("SegmentMax", lambda d: tf.math.segment_max(d, sorted_ids),
         _segment_reference(np.max, sorted_ids, 4, 0.), distinct(5, 3)),
    case("SegmentMin", lambda d: tf.math.segment_min(d, sorted_ids),
         _segment_reference(np.min, sorted_ids, 4, 0.), distinct(5, 3)),
    case("SegmentProd", lambda d: tf.math.segment_prod(d, sorted_ids),
         _segment_reference(np.prod, sorted_ids, 4, 1.), rand(5, 3)),
    # Every segment non-empty here: an empty one holds the dtype's lowest (highest) value,
    # whose finite differences overflow; the empty case is checked forward only.
    case("UnsortedSegmentMax", lambda d: tf.math.unsorted_segment_max(d, unsorted_ids, 3),
         _segment_reference(np.max, unsorted_ids, 3, 0.), distinct(5, 3)),
    case("UnsortedSegmentMin", lambda d: tf.math.unsorted_segment_min(d, unsorted_ids, 3),
         _segment_reference(np.min, unsorted_ids, 3, 0.), distinct(5, 3)),
    case("UnsortedSegmentMax", lambda d: tf.math.unsorted_segment_max(d, unsorted_ids, 4),
         _segment_reference(np.max, unsorted_ids, 4, np.finfo(np.float32).min),
         distinct(5, 3).astype(np.float32), id="unsorted_segment_max_empty"),
    case("UnsortedSegmentMin", lambda d: tf.math.unsorted_segment_min(d, unsorted_ids, 4),
         _segment_reference(np.min, unsorted_ids, 4, np.iinfo(np.int32).max),
         np.arange(15, dtype=np.int32).reshape(5, 3) - 7, id="unsorted_segment_min_empty_ints"),
    case("UnsortedSegmentProd", lambda d: tf.math.unsorted_segment_prod(d, unsorted_ids, 4),
         _segment_reference(np.prod, unsorted_ids, 4, 1.), rand(5, 3)),
    case("UnsortedSegmentSum", lambda d: tf.math.unsorted_segment_mean(d, unsorted_ids, 4),
         _segment_reference(np.mean, unsorted_ids, 4, 0.), rand(5, 3),
         id="unsorted_segment_mean"),
    case("UnsortedSegmentSum", lambda d: tf.math.unsorted_segment_sqrt_n(d, unsorted_ids, 3),
         lambda d: _segment_reference(np.sum, unsorted_ids, 3, 0.)(d) /
         np.sqrt(np.maximum(np.bincount([i for i in unsorted_ids if i >= 0], minlength=3),
                            1))[:, None],
         rand(5, 2), id="unsorted_segment_sqrt_n"),
    case("DenseBincount", tf.math.bincount, lambda a: np.bincount(a).astype(np.int32),
         np.array([1, 1, 4, 0], np.int32)),
    case("DenseBincount", lambda a, w: tf.math.bincount(a, weights=w, minlength=6),
         lambda a, w: np.bincount(a, weights=w, minlength=6), np.array([1, 1, 4, 0], np.int32),
         rand(4), grad=False, id="bincount_weights"),
    case("HistogramFixedWidth", lambda v: tf.histogram_fixed_width(v, [0., 5.], nbins=5),
         lambda v: np.array([2, 1, 1, 0, 2], np.int32),
         np.array([-1., 0., 1.5, 2., 5., 15.], np.float32)),
]
