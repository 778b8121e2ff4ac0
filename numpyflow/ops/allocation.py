"""Refusing outputs larger than the memory left, with TF's out-of-memory error.

An op whose output size comes from its input values (`tf.math.bincount`, the segment
reductions) could be asked for tens of gigabytes by one large id; TF's allocator then fails
with `ResourceExhaustedError`. NumPy's would appear to succeed and the OS would kill the
process while the array is filled, so such ops check first.

    >>> import numpyflow as tf
    >>> try:
    ...     tf.math.bincount([2 ** 40])
    ... except tf.errors.ResourceExhaustedError as error:
    ...     print(str(error)[:16])
    OOM when allocat
"""

from numpyflow.backend import allocator, xp
from numpyflow.framework.errors import ResourceExhaustedError


def check_output_fits(op_name, shape, dtype, copies=2):
    """Raises `ResourceExhaustedError` unless `copies` arrays of `shape` and `dtype` (the
    output and a temporary the kernel makes) fit in the memory left."""
    count = 1
    for dim in shape:
        count *= int(dim)
    nbytes = count * xp.dtype(dtype).itemsize * copies
    if not allocator.fits(nbytes):
        shape_text = ",".join(str(int(d)) for d in shape)
        raise ResourceExhaustedError(
            None, None, f"OOM when allocating tensor with shape[{shape_text}] and type "
                        f"{xp.dtype(dtype).name}: {nbytes / 2 ** 30:.1f} GiB needed, more than "
                        f"this machine has free [Op:{op_name}]")
