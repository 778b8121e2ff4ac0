"""`tf.summary.scalar/histogram/image/text/write`: values as TF 2 writes them.

Each value is a tensor summary carrying the metadata of the TensorBoard plugin that shows
it (scalars, histograms, images, text), built with TensorBoard's own proto messages and
metadata helpers. Nothing is computed unless a writer is set and recording is on.
"""

import io

import numpy as np

from numpyflow.summary import _tensorboard
from numpyflow.summary import writer as writer_lib

DEFAULT_BUCKET_COUNT = 30  # TensorBoard's default for histograms.


def write(tag, tensor, step=None, metadata=None, name=None):
    """Writes `tensor` under `tag` with the given `SummaryMetadata` to the default writer.

    Args:
      tag: The summary's tag.
      tensor: A value convertible to a NumPy array (numbers, strings, bytes).
      step: The step; defaults to `tf.summary.experimental.get_step()`.
      metadata: A TensorBoard `SummaryMetadata` proto, its serialized bytes, or None.
      name: Unused: TF names its op with it.

    Returns:
      True if written, False if no writer is set or recording is off.
    """
    del name
    if not writer_lib.should_record_summaries():
        return False
    tensor_util = _tensorboard.load("util.tensor_util")
    array = _as_array(tensor)
    if array.dtype.kind in "USO":
        proto = tensor_util.make_tensor_proto(array.astype(object), dtype=np.object_)
    else:
        proto = tensor_util.make_tensor_proto(array)
    summary_pb2 = _tensorboard.load("compat.proto.summary_pb2")
    if isinstance(metadata, (bytes, bytearray)):
        metadata = summary_pb2.SummaryMetadata.FromString(bytes(metadata))
    return _write(summary_pb2, _check_tag(tag, "write"), proto, metadata, step)


def scalar(name, data, step=None, description=None):
    """Writes a scalar (cast to float32) for TensorBoard's Scalars dashboard.

    >>> import numpyflow as tf
    >>> writer = tf.summary.create_file_writer("/tmp/logs")  # doctest: +SKIP
    >>> with writer.as_default(step=3):  # doctest: +SKIP
    ...     tf.summary.scalar("loss", 0.25)
    True
    """
    if not writer_lib.should_record_summaries():
        return False
    tag = _check_tag(name, "scalar")
    value = _as_array(data)
    if value.shape != ():
        raise ValueError(f"tf.summary.scalar({tag!r}): data must be a scalar; received a "
                         f"value of shape {value.shape}.")
    if value.dtype.kind not in "biuf":
        raise ValueError(f"tf.summary.scalar({tag!r}): data must be a number; received "
                         f"dtype {value.dtype}.")
    tensor_util = _tensorboard.load("util.tensor_util")
    metadata = _tensorboard.load("plugins.scalar.metadata")
    proto = tensor_util.make_tensor_proto(value.astype(np.float32))
    return _write(None, tag, proto, metadata.create_summary_metadata(None, description), step)


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes the histogram of `data` (any shape) for the Histograms/Distributions dashboards.

    The value is a float64 `[buckets, 3]` tensor of (left edge, right edge, count), with
    `buckets` equal-width buckets from the minimum to the maximum, as TF 2 computes it.

    >>> import numpyflow as tf
    >>> with tf.summary.create_file_writer("/tmp/logs").as_default():  # doctest: +SKIP
    ...     tf.summary.histogram("weights", tf.random.normal((100,)), step=0)
    True
    """
    if not writer_lib.should_record_summaries():
        return False
    tag = _check_tag(name, "histogram")
    bucket_count = DEFAULT_BUCKET_COUNT if buckets is None else buckets
    if isinstance(bucket_count, bool) or not isinstance(bucket_count, (int, np.integer)):
        raise TypeError(f"tf.summary.histogram({tag!r}): buckets must be an int; received "
                        f"buckets={buckets!r}.")
    values = _as_array(data)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"tf.summary.histogram({tag!r}): data must be numbers; received "
                         f"dtype {values.dtype}.")
    table = histogram_buckets(values, max(int(bucket_count), 0))
    tensor_util = _tensorboard.load("util.tensor_util")
    metadata = _tensorboard.load("plugins.histogram.metadata")
    proto = tensor_util.make_tensor_proto(table, dtype=np.float64)
    return _write(None, tag, proto, metadata.create_summary_metadata(None, description), step)


def histogram_buckets(data, bucket_count):
    """`[bucket_count, 3]` float64 rows (left, right, count), by TensorBoard's rule.

    Empty data gives zeros; data of one value puts every count in the last bucket, whose
    edges are all that value; otherwise the buckets split [min, max] evenly and the maximum
    falls in the last one.
    """
    data = data.reshape(-1).astype(np.float64)
    if bucket_count == 0 or data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = data.min(), data.max()
    if low == high:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        edges = np.full(bucket_count, high)
        return np.stack([edges, edges, counts], axis=1)
    width = (high - low) / bucket_count
    index = np.minimum(np.floor((data - low) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(index, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    edges[-1] = high
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def image(name, data, step=None, max_outputs=3, description=None):
    """Writes up to `max_outputs` images as PNG for TensorBoard's Images dashboard.

    Args:
      data: `[k, height, width, channels]` with 1, 3 or 4 channels: floats in [0, 1]
        (scaled and clipped to uint8 as `tf.image.convert_image_dtype` does) or uint8.

    >>> import numpy as np, numpyflow as tf
    >>> with tf.summary.create_file_writer("/tmp/logs").as_default():  # doctest: +SKIP
    ...     tf.summary.image("samples", np.random.rand(2, 28, 28, 1), step=0)
    True
    """
    if not writer_lib.should_record_summaries():
        return False
    tag = _check_tag(name, "image")
    images = _as_array(data)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"tf.summary.image({tag!r}): data must have shape [k, height, width, "
                         f"channels] with 1, 3 or 4 channels; received shape {images.shape}.")
    if isinstance(max_outputs, bool) or not isinstance(max_outputs, (int, np.integer)) \
            or max_outputs < 0:
        raise ValueError(f"tf.summary.image({tag!r}): max_outputs must be an int >= 0; "
                         f"received max_outputs={max_outputs!r}.")
    pixels = _to_uint8(images, tag)
    encoded = [_encode_png(picture) for picture in pixels[:max_outputs]]
    # The tensor is [width, height, png, png, ...] as strings, as TF 2 writes it.
    content = [str(images.shape[2]).encode(), str(images.shape[1]).encode()] + encoded
    tensor_util = _tensorboard.load("util.tensor_util")
    metadata = _tensorboard.load("plugins.image.metadata")
    proto = tensor_util.make_tensor_proto(np.array(content, dtype=object), dtype=np.object_)
    return _write(None, tag, proto, metadata.create_summary_metadata(None, description), step)


def text(name, data, step=None, description=None):
    """Writes a string (or an array of strings) for TensorBoard's Text dashboard (Markdown).

    >>> import numpyflow as tf
    >>> with tf.summary.create_file_writer("/tmp/logs").as_default():  # doctest: +SKIP
    ...     tf.summary.text("notes", "learning rate **0.01**", step=0)
    True
    """
    if not writer_lib.should_record_summaries():
        return False
    tag = _check_tag(name, "text")
    values = _as_array(data)
    if values.dtype.kind not in "SUO" or (values.dtype.kind == "O" and not all(
            isinstance(item, (str, bytes)) for item in values.reshape(-1))):
        raise TypeError(f"tf.summary.text({tag!r}): data must be a string or an array of "
                        f"strings; received dtype {values.dtype}.")
    encoded = np.array([item.encode() if isinstance(item, str) else bytes(item)
                        for item in values.reshape(-1).tolist()], dtype=object)
    tensor_util = _tensorboard.load("util.tensor_util")
    metadata = _tensorboard.load("plugins.text.metadata")
    proto = tensor_util.make_tensor_proto(encoded.reshape(values.shape), dtype=np.object_)
    return _write(None, tag, proto, metadata.create_summary_metadata(None, description), step)


# -- helpers ----------------------------------------------------------------------------------
def _write(summary_pb2, tag, tensor_proto, metadata, step):
    step = writer_lib.resolve_step(step)
    if summary_pb2 is None:
        summary_pb2 = _tensorboard.load("compat.proto.summary_pb2")
    summary = summary_pb2.Summary()
    value = summary.value.add(tag=tag, tensor=tensor_proto)
    if metadata is not None:
        value.metadata.CopyFrom(metadata)
    return writer_lib.default_writer().write_summary(summary, step)


def _check_tag(name, op):
    if not isinstance(name, str) or not name:
        raise TypeError(f"tf.summary.{op}: name must be a non-empty string; received "
                        f"name={name!r}.")
    return name


def _as_array(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _to_uint8(images, tag):
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind == "f":
        # tf.image.convert_image_dtype(saturate=True): scale by 255.5, clip, truncate.
        return np.clip(images.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    raise TypeError(f"tf.summary.image({tag!r}): images must be floats in [0, 1] or uint8; "
                    f"received dtype {images.dtype}.")


def _encode_png(picture):
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("tf.summary.image encodes PNG with Pillow, which is not installed. "
                          "Install it with: pip install numpyflow[tensorboard]") from error
    if picture.shape[-1] == 1:
        picture = picture[..., 0]  # Grayscale; 3 and 4 channels are RGB and RGBA.
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG")
    return buffer.getvalue()
