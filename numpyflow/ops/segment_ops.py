"""Segment reductions (sorted `segment_*` and `unsorted_segment_*`), bincount,
confusion_matrix and fixed-width histograms.

A segment reduction combines the rows of `data` that share a segment id: row i goes to
output row `segment_ids[i]` (ids may index the leading axes of `data`). The sorted ops
take non-decreasing ids and make `ids[-1] + 1` rows; the unsorted ones take
`num_segments` and drop rows with negative ids. Empty segments hold the reduction's
identity (0 for sums and means, 1 for products; the lowest / highest value for the
unsorted max / min, 0 for the sorted ones), as in TF.
"""

from numpyflow.backend import xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import dtypes, errors
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, debug_ops, indexing_ops, math_ops, reduce_ops
from numpyflow.ops._convert import tensor
from numpyflow.ops.allocation import check_output_fits
from numpyflow.ops.array_ops import _shape_text
from numpyflow.ops.math_ops import cast

_UFUNCS = {"sum": xp.add, "prod": xp.multiply, "max": xp.maximum, "min": xp.minimum}


def _identity(kind, dtype):
    """The value a reduction starts from (and an empty unsorted segment keeps)."""
    if kind == "sum":
        return 0
    if kind == "prod":
        return 1
    info = xp.finfo(dtype) if dtype.kind == "f" else xp.iinfo(dtype)
    return info.min if kind == "max" else info.max


def _reduce_rows(data, ids, num_segments, kind, sorted_ids, op_name):
    """The segment reduction on arrays: ids < num_segments (checked by the caller); rows
    with negative ids are dropped."""
    inner_shape = data.shape[ids.ndim:]
    inner = int(xp.prod(inner_shape, dtype=xp.int64))
    check_output_fits(op_name, (num_segments,) + inner_shape, data.dtype)
    out = xp.full(num_segments * inner, _identity(kind, data.dtype), data.dtype)
    rows = ids.reshape(-1).astype(xp.intp, copy=False)
    values = data.reshape(len(rows), inner)
    keep = rows >= 0
    if not keep.all():
        rows, values = rows[keep], values[keep]
    # One flat index per element: ufunc.at over single elements is much faster than over rows.
    flat = rows if inner == 1 else (rows[:, None] * inner + xp.arange(inner)).reshape(-1)
    _UFUNCS[kind].at(out, flat, values.reshape(-1))
    out = out.reshape((num_segments,) + inner_shape)
    if sorted_ids and kind in ("max", "min"):
        # The sorted ops leave empty segments (ids skipped over) at 0, as TF.
        out[xp.bincount(rows, minlength=num_segments) == 0] = 0
    return out


def _check_ids_shape(data, ids, op_name):
    if data.shape[:ids.ndim] != ids.shape:
        raise errors.invalid_argument(
            op_name, f"segment_ids.shape = {_shape_text(ids.shape)} does not prefix "
            f"data.shape = {_shape_text(data.shape)}")


def out_of_range_message(ids, num_segments, negative_ids_allowed=True):
    """TF's message for the first id >= num_segments (or < 0 where ids may not be
    negative): "segment_ids[1,0] = 3 is out of range [0, 3)"; None if all ids are valid.

    Also the `explain` of indexing_ops.UnsortedSegmentSum, whose scatter fails with NumPy's
    IndexError on such ids: the check costs nothing until something is wrong.
    """
    bad = ids >= num_segments
    if not negative_ids_allowed:
        bad |= ids < 0
    if not bad.any():
        return None
    position = tuple(int(i) for i in xp.argwhere(bad)[0])
    where = "[" + ",".join(map(str, position)) + "]"
    return f"segment_ids{where} = {ids[position]} is out of range [0, {num_segments})"


def _unsorted_forward(kind, op_name):
    def forward(data, ids, num_segments):
        _check_ids_shape(data, ids, op_name)
        message = out_of_range_message(ids, num_segments)
        if message is not None:
            raise errors.invalid_argument(op_name, message)
        return _reduce_rows(data, ids, num_segments, kind, False, op_name)
    return quiet(forward)


def _sorted_forward(kind, op_name):
    def forward(data, ids):
        if ids.ndim != 1 or data.ndim < 1 or len(ids) != data.shape[0]:
            raise errors.invalid_argument(op_name, "segment_ids should be the same size as "
                                          "dimension 0 of input.")
        num_segments = int(ids[-1]) + 1 if len(ids) else 0
        if len(ids) and ids[0] < 0:
            raise errors.invalid_argument(
                op_name, f"Segment id {ids[0]} out of range [0, {num_segments}), possibly "
                f"because 'segment_ids' input is not sorted.")
        if len(ids) > 1 and (ids[1:] < ids[:-1]).any():
            raise errors.invalid_argument(op_name, "segment ids are not increasing")
        if kind == "mean":
            total = _reduce_rows(data, ids, num_segments, "sum", True, op_name)
            counts = xp.bincount(ids, minlength=num_segments).reshape(
                (num_segments,) + (1,) * (data.ndim - 1))
            return (total / xp.maximum(counts, 1)).astype(data.dtype, copy=False)
        return _reduce_rows(data, ids, num_segments, kind, True, op_name)
    return quiet(forward)


# -- gradients ----------------------------------------------------------------------------------
#
# The rules branch on the op (sorted or not), never on the ids' values, so that a traced
# plan's gradient stays right for any ids: unsorted ops may drop rows (negative ids), and
# their rules mask those rows out; sorted ops have none.

def _drops_rows(node):
    return node.primitive.name.startswith("Unsorted")


def _row_mask(ids, like):
    """True for the rows whose id is >= 0, shaped to broadcast against `like`."""
    inner_rank = like._value.ndim - ids._value.ndim
    kept = math_ops.greater_equal(ids, 0)
    return array_ops.reshape(kept, list(ids._value.shape) + [1] * inner_rank)


def _gather_rows(params, ids, drops_rows):
    """params[ids] row-wise; 0 for the rows with negative ids when `drops_rows`."""
    if not drops_rows:
        return indexing_ops.GatherV2(params, ids, axis=0)
    gathered = indexing_ops.GatherV2(params, math_ops.maximum(ids, 0), axis=0)
    return indexing_ops.where(_row_mask(ids, gathered), gathered,
                              Tensor(xp.zeros((), gathered._value.dtype)))


def _sum_rows(values, ids, num_segments, drops_rows):
    """The segment sum of `values` (rows with negative ids dropped when `drops_rows`)."""
    if drops_rows:
        values = indexing_ops.where(_row_mask(ids, values), values,
                                    Tensor(xp.zeros((), values._value.dtype)))
        ids = math_ops.maximum(ids, 0)
    return indexing_ops.UnsortedSegmentSum(values, ids, num_segments=num_segments)


def _sum_grad(node, dy):
    return _gather_rows(dy, node.inputs[1], _drops_rows(node)), None


def _mean_grad(node, dy):
    # Only SegmentMean is a primitive (unsorted_segment_mean is composed), so no row drops.
    data, ids = node.inputs[0], node.inputs[1]
    num_segments = node.output._value.shape[0]
    counts = _sum_rows(Tensor(xp.ones(ids._value.shape, dy._value.dtype)), ids, num_segments,
                       False)
    counts = array_ops.reshape(counts, [num_segments] + [1] * (data._value.ndim - 1))
    return _gather_rows(dy / math_ops.maximum(counts, 1.), ids, False), None


def _extremum_grad(node, dy):
    # The rows equal to their segment's extremum share its gradient equally (TF's rule).
    data, ids = node.inputs[0], node.inputs[1]
    drops = _drops_rows(node)
    selected = math_ops.equal(data, _gather_rows(node.output, ids, drops))
    if drops:
        selected = math_ops.logical_and(selected, _row_mask(ids, data))
    picked = cast(selected, dy.dtype)
    how_many = _sum_rows(picked, ids, node.output._value.shape[0], drops)
    return picked * _gather_rows(math_ops.divide_no_nan(dy, how_many), ids, drops), None


def _prod_grad(node, dy):
    # d prod / d x_i = prod of the others: out / x_i where x_i != 0. Where x_i is 0 it is
    # the product of the segment's non-zero rows if x_i is the segment's only zero, else 0.
    data, ids = node.inputs[0], node.inputs[1]
    drops = _drops_rows(node)
    num_segments = node.output._value.shape[0]
    is_zero = math_ops.equal(data, 0.)
    one = Tensor(xp.ones((), data._value.dtype))
    zero = Tensor(xp.zeros((), data._value.dtype))
    safe = indexing_ops.where(is_zero, one, data)
    zeros_in_segment = _sum_rows(cast(is_zero, data.dtype), ids, num_segments, drops)
    if drops:
        others = UnsortedSegmentProd(indexing_ops.where(_row_mask(ids, safe), safe, one),
                                     math_ops.maximum(ids, 0), num_segments=num_segments)
    else:
        others = SegmentProd(safe, ids)
    only_zero = math_ops.equal(_gather_rows(zeros_in_segment, ids, drops), 1.)
    at_zero = indexing_ops.where(only_zero, _gather_rows(others, ids, drops), zero)
    partial = indexing_ops.where(is_zero, at_zero,
                                 _gather_rows(node.output, ids, drops) / safe)
    return partial * _gather_rows(dy, ids, drops), None


# -- the primitives ---------------------------------------------------------------------------

UnsortedSegmentMax = Primitive("UnsortedSegmentMax",
                               _unsorted_forward("max", "UnsortedSegmentMax"),
                               _extremum_grad)
UnsortedSegmentMin = Primitive("UnsortedSegmentMin",
                               _unsorted_forward("min", "UnsortedSegmentMin"),
                               _extremum_grad)
UnsortedSegmentProd = Primitive("UnsortedSegmentProd",
                                _unsorted_forward("prod", "UnsortedSegmentProd"), _prod_grad)
SegmentSum = Primitive("SegmentSum", _sorted_forward("sum", "SegmentSum"), _sum_grad,
                       output_shape_from_data=True)
SegmentMean = Primitive("SegmentMean", _sorted_forward("mean", "SegmentMean"), _mean_grad,
                        output_shape_from_data=True)
SegmentMax = Primitive("SegmentMax", _sorted_forward("max", "SegmentMax"), _extremum_grad,
                       output_shape_from_data=True)
SegmentMin = Primitive("SegmentMin", _sorted_forward("min", "SegmentMin"), _extremum_grad,
                       output_shape_from_data=True)
SegmentProd = Primitive("SegmentProd", _sorted_forward("prod", "SegmentProd"), _prod_grad,
                        output_shape_from_data=True)



# -- public functions -------------------------------------------------------------------------

def _segment_args(data, segment_ids, op_name):
    data = tensor(data)
    ids = indexing_ops._index_tensor(segment_ids, op_name)
    if data._value.dtype.kind not in "fiu":
        raise TypeError(f"{op_name} expects a numeric data tensor; received "
                        f"{data.dtype.name}.")
    return data, ids


def _sorted_op(primitive, what, example):
    def op(data, segment_ids, name=None):
        return primitive(*_segment_args(data, segment_ids, primitive.name))
    op.__doc__ = f"""The {what} of the rows of `data` in each segment; `segment_ids` must be
    sorted (non-decreasing) and as long as `data`'s first axis. Output rows:
    `segment_ids[-1] + 1`; empty segments are 0{" (1 for the product)" if what == "product"
    else ""}.

    >>> import numpyflow as tf
    >>> tf.math.{_public_name(primitive)}([1., 2., 3.], [0, 0, 2]).numpy()
    {example}
    """
    return op


def _public_name(primitive):
    return "segment_" + primitive.name[len("Segment"):].lower()


segment_sum = _sorted_op(SegmentSum, "sum", "array([3., 0., 3.], dtype=float32)")
segment_mean = _sorted_op(SegmentMean, "mean", "array([1.5, 0. , 3. ], dtype=float32)")
segment_max = _sorted_op(SegmentMax, "maximum", "array([2., 0., 3.], dtype=float32)")
segment_min = _sorted_op(SegmentMin, "minimum", "array([1., 0., 3.], dtype=float32)")
segment_prod = _sorted_op(SegmentProd, "product", "array([2., 1., 3.], dtype=float32)")


def _num_segments(num_segments, op_name):
    value = int(num_segments)
    if value < 0:
        raise errors.invalid_argument(op_name, f"num_segments must be >= 0; received {value}")
    return value


def _unsorted_op(primitive, empty, example):
    def op(data, segment_ids, num_segments, name=None):
        data, ids = _segment_args(data, segment_ids, primitive.name)
        return primitive(data, ids, num_segments=_num_segments(num_segments, primitive.name))
    op.__doc__ = f"""The {primitive.name[len("UnsortedSegment"):].lower()} of the rows of
    `data` per segment id in [0, num_segments); rows with negative ids are dropped, empty
    segments hold {empty}.

    >>> import numpyflow as tf
    >>> tf.math.unsorted_segment_{primitive.name[len("UnsortedSegment"):].lower()}(
    ...     [1., 2., 3.], [0, 2, 0], num_segments=3).numpy()
    {example}
    """
    return op


unsorted_segment_max = _unsorted_op(
    UnsortedSegmentMax, "the lowest value of the dtype",
    "array([ 3.0000000e+00, -3.4028235e+38,  2.0000000e+00], dtype=float32)")
unsorted_segment_min = _unsorted_op(
    UnsortedSegmentMin, "the highest value of the dtype",
    "array([1.0000000e+00, 3.4028235e+38, 2.0000000e+00], dtype=float32)")
unsorted_segment_prod = _unsorted_op(UnsortedSegmentProd, "1",
                                     "array([3., 1., 2.], dtype=float32)")


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """The sum of the rows of `data` per segment id in [0, num_segments); rows with
    negative ids are dropped, empty segments are 0.

    >>> import numpyflow as tf
    >>> tf.math.unsorted_segment_sum([1., 2., 3.], [0, 2, 0], num_segments=3).numpy()
    array([4., 0., 2.], dtype=float32)
    """
    data, ids = _segment_args(data, segment_ids, "UnsortedSegmentSum")
    n = _num_segments(num_segments, "UnsortedSegmentSum")
    # The primitive (gather's gradient) takes ids known to be valid: check the shapes here;
    # ids past the end fail in its scatter (its `explain` gives TF's message, from
    # out_of_range_message), negative ones are masked out (data-independent ops, so a
    # traced plan handles any ids the same way).
    if data._value.shape[:ids._value.ndim] != ids._value.shape:
        raise errors.invalid_argument(
            "UnsortedSegmentSum", f"segment_ids.shape = {_shape_text(ids._value.shape)} does "
            f"not prefix data.shape = {_shape_text(data._value.shape)}")
    return _sum_rows(data, ids, n, drops_rows=True)


def _segment_counts(data, ids, num_segments):
    """How many rows each segment holds, shaped [num_segments, 1, ...] to divide by."""
    ones = Tensor(xp.ones(ids._value.shape, data._value.dtype))
    counts = _sum_rows(ones, ids, num_segments, drops_rows=True)
    inner_rank = data._value.ndim - ids._value.ndim
    return array_ops.reshape(counts, [num_segments] + [1] * inner_rank)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """The mean of the rows of `data` per segment id; empty segments are 0. Integer data
    gives float64, as in TF.

    >>> import numpyflow as tf
    >>> tf.math.unsorted_segment_mean([1., 2., 3.], [0, 2, 0], num_segments=3).numpy()
    array([2., 0., 2.], dtype=float32)
    """
    data, ids = _segment_args(data, segment_ids, "UnsortedSegmentSum")
    if data._value.dtype.kind in "iu":
        data = cast(data, dtypes.float64)
    n = _num_segments(num_segments, "UnsortedSegmentSum")
    total = unsorted_segment_sum(data, ids, n)
    return total / math_ops.maximum(_segment_counts(data, ids, n), 1.)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """The sum of the rows of `data` per segment id divided by sqrt(row count); empty
    segments are 0.

    >>> import numpyflow as tf
    >>> tf.math.unsorted_segment_sqrt_n([1., 3.], [0, 0], num_segments=1).numpy()
    array([2.828427], dtype=float32)
    """
    data, ids = _segment_args(data, segment_ids, "UnsortedSegmentSum")
    if data._value.dtype.kind != "f":
        raise TypeError(f"unsorted_segment_sqrt_n expects floating-point data; received "
                        f"{data.dtype.name}.")
    n = _num_segments(num_segments, "UnsortedSegmentSum")
    total = unsorted_segment_sum(data, ids, n)
    return total / math_ops.sqrt(math_ops.maximum(_segment_counts(data, ids, n), 1.))


# -- bincount ---------------------------------------------------------------------------------

def _bincount_forward(arr, *weights, minlength, maxlength, binary_output, dtype, per_row):
    if arr.size and arr.min() < 0:
        raise errors.invalid_argument("DenseBincount", "Input arr must be non-negative!")
    size = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        size = max(size, minlength)
    if maxlength is not None:
        size = min(size, maxlength)
    rows = arr.shape[0] if per_row else 1
    # NumPy counts in int64 (or float64 with weights) before the cast: two 8-byte copies.
    check_output_fits("DenseBincount", (rows, size), xp.float64)
    values = arr.reshape(rows, -1).astype(xp.intp)
    kept = values < size  # Values past maxlength are not counted, as in TF.
    flat = (values + (xp.arange(rows) * size)[:, None])[kept]
    weight = None
    if weights:
        weight = xp.broadcast_to(weights[0], arr.shape).reshape(rows, -1)[kept]
    counts = xp.bincount(flat, weights=weight, minlength=rows * size)
    if binary_output:
        counts = counts > 0
    out_dtype = weights[0].dtype if weights else dtype
    counts = counts.astype(out_dtype)
    return counts.reshape(rows, size) if per_row else counts


DenseBincount = Primitive("DenseBincount", _bincount_forward, output_shape_from_data=True)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32,
             name=None, axis=None, binary_output=False):
    """Counts how often each value 0, 1, ... occurs in the non-negative integer `arr`.

    Args:
      arr: Non-negative integers (floats are truncated to int32, as TF).
      weights: If given, sums these (same shape as `arr`) instead of counting ones; the
        output then has their dtype.
      minlength, maxlength: Bounds on the output length (values >= maxlength are ignored).
      dtype: The output dtype without weights.
      axis: None or 0 counts over all of `arr`; -1 counts each row of a 2-D `arr`.
      binary_output: Output 1 for every value that occurs instead of its count.

    >>> import numpyflow as tf
    >>> tf.math.bincount([1, 1, 3]).numpy()
    array([0, 2, 0, 1], dtype=int32)
    """
    arr = tensor(arr)
    if arr._value.dtype.kind == "f":
        arr = cast(arr, dtypes.int32)
    if arr._value.dtype.kind not in "iu":
        raise TypeError(f"bincount: arr must be an integer tensor; received {arr.dtype.name}.")
    if axis not in (None, 0, -1):
        raise ValueError(f"bincount: unsupported axis={axis} (None, 0 or -1 are supported).")
    per_row = axis == -1
    if per_row and arr._value.ndim != 2:
        raise ValueError(f"bincount: axis=-1 needs a 2-D arr; received shape "
                         f"{_shape_text(arr._value.shape)}.")
    inputs = [arr]
    if weights is not None:
        if binary_output:
            raise ValueError("Arguments `binary_output` and `weights` are mutually exclusive. "
                             "Please specify only one.")
        weights = tensor(weights)
        if weights._value.shape not in (arr._value.shape, ()):
            raise errors.invalid_argument(
                "DenseBincount", f"weights must have the shape of arr "
                f"{_shape_text(arr._value.shape)}; received {_shape_text(weights._value.shape)}")
        inputs.append(weights)
    return DenseBincount(
        *inputs, minlength=None if minlength is None else int(minlength),
        maxlength=None if maxlength is None else int(maxlength),
        binary_output=bool(binary_output), dtype=dtypes.as_dtype(dtype)._np, per_row=per_row)


# -- confusion_matrix, histograms ------------------------------------------------------------

def _class_ids(ids, arg):
    """int64 class ids from integer or (as TF, truncated) floating-point values."""
    ids = tensor(ids)
    if ids._value.dtype.kind not in "iuf":
        raise TypeError(f"confusion_matrix: {arg} must be integer or floating-point class ids; "
                        f"received dtype {ids.dtype.name}.")
    return cast(ids, dtypes.int64)


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=dtypes.int32,
                     name=None):
    """The [num_classes, num_classes] matrix counting (label, prediction) pairs: row = label,
    column = prediction.

    Args:
      labels, predictions: 1-D class ids of one length, each in [0, num_classes); floats are
        cast to int64 (truncated) as in TF, and a trailing axis of 1 on only one of them
        (labels of shape [batch, 1]) is squeezed.
      num_classes: Defaults to 1 + the largest id seen (which reads the values: inside a
        `tf.function` give it explicitly).
      weights: Optional per-pair weights added instead of 1.
      dtype: The output dtype.

    >>> import numpyflow as tf
    >>> tf.math.confusion_matrix([1, 2, 0], [1, 1, 0]).numpy()
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 0]], dtype=int32)
    """
    labels, predictions = _class_ids(labels, "labels"), _class_ids(predictions, "predictions")
    # As TF: a trailing axis of 1 on one side is squeezed when the ranks differ by one.
    rank_gap = labels._value.ndim - predictions._value.ndim
    if rank_gap == 1 and labels._value.shape[-1:] == (1,):
        labels = array_ops.squeeze(labels, [-1])
    elif rank_gap == -1 and predictions._value.shape[-1:] == (1,):
        predictions = array_ops.squeeze(predictions, [-1])
    if labels._value.ndim != 1 or labels._value.shape != predictions._value.shape:
        raise ValueError(f"confusion_matrix: labels and predictions must be 1-D of one length; "
                         f"received shapes {_shape_text(labels._value.shape)} and "
                         f"{_shape_text(predictions._value.shape)}.")
    debug_ops.assert_non_negative(labels, message="`labels` contains negative values.")
    debug_ops.assert_non_negative(predictions, message="`predictions` contains negative values.")
    if num_classes is None:
        if labels._value.size == 0:
            num_classes = 0
        else:
            num_classes = int(math_ops.maximum(reduce_ops.reduce_max(labels),
                                               reduce_ops.reduce_max(predictions))) + 1
    else:
        num_classes = int(num_classes)
        debug_ops.assert_less(labels, Tensor(xp.asarray(num_classes, xp.int64)),
                              message="`labels` out of bound")
        debug_ops.assert_less(predictions, Tensor(xp.asarray(num_classes, xp.int64)),
                              message="`predictions` out of bound")
    np_dtype = dtypes.as_dtype(dtype)._np
    if weights is None:
        values = Tensor(xp.ones(labels._value.shape, np_dtype))
    else:
        values = cast(tensor(weights), np_dtype)
    pairs = labels * num_classes + predictions
    counts = indexing_ops.UnsortedSegmentSum(values, pairs, num_segments=num_classes ** 2)
    return array_ops.reshape(counts, [num_classes, num_classes])


def _range_pair(values, value_range):
    values = tensor(values)
    if values._value.dtype.kind not in "fiu":
        raise TypeError(f"histogram_fixed_width expects numeric values; received "
                        f"{values.dtype.name}.")
    value_range = tensor(value_range) if not hasattr(value_range, "_value") else value_range
    value_range = cast(value_range, values.dtype)
    if value_range._value.shape != (2,):
        raise ValueError(f"histogram_fixed_width: value_range must have shape [2]; received "
                         f"{_shape_text(value_range._value.shape)}.")
    return values, value_range


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """The bin index of each of `values` in `nbins` equal bins over [value_range[0],
    value_range[1]); values outside go to the first or last bin.

    >>> import numpyflow as tf
    >>> tf.histogram_fixed_width_bins([-1., 0., 1.5, 2., 5., 15.], [0., 5.], nbins=5).numpy()
    array([0, 0, 1, 2, 4, 4], dtype=int32)
    """
    values, value_range = _range_pair(values, value_range)
    nbins = int(nbins)
    scaled = math_ops.divide(values - value_range[0], value_range[1] - value_range[0])
    bins = math_ops.floor(scaled * float(nbins))
    bins = indexing_ops.clip_by_value(bins, 0., float(nbins - 1))
    return cast(bins, dtype)


def _histogram_forward(values, value_range, nbins, dtype):
    low, high = value_range.astype(xp.float64)
    if nbins <= 0:
        raise errors.invalid_argument("HistogramFixedWidth", f"nbins should be a positive "
                                      f"number, but got '{nbins}'")
    if not low < high:
        raise errors.invalid_argument(
            "HistogramFixedWidth", f"value_range should satisfy value_range[0] < "
            f"value_range[1], but got '[{value_range[0]}, {value_range[1]}]'")
    scaled = (values.astype(xp.float64).reshape(-1) - low) / (high - low)
    bins = xp.clip(xp.floor(scaled * nbins), 0, nbins - 1).astype(xp.intp)
    return xp.bincount(bins, minlength=nbins).astype(dtype)


HistogramFixedWidth = Primitive("HistogramFixedWidth", quiet(_histogram_forward))


def histogram_fixed_width(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """Counts `values` in `nbins` equal bins over [value_range[0], value_range[1]); values
    outside go to the first or last bin.

    >>> import numpyflow as tf
    >>> tf.histogram_fixed_width([-1., 0., 1.5, 2., 5., 15.], [0., 5.], nbins=5).numpy()
    array([2, 1, 1, 0, 2], dtype=int32)
    """
    values, value_range = _range_pair(values, value_range)
    return HistogramFixedWidth(values, value_range, nbins=int(nbins),
                               dtype=dtypes.as_dtype(dtype)._np)
