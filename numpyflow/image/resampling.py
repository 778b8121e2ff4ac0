"""`tf.image.resize`: adds TF's "area" method and `antialias=True` (bilinear) to the
bilinear and nearest resizing of `numpyflow.ops.image_ops`.

Both new cases are linear and separable: along each axis, every output pixel is a fixed
weighted sum of input pixels, so the resize is two products with small constant matrices
(`rows @ image @ cols.T`), written with `matmul`/`transpose`, which also give the gradient.

- "area" (TF's `ResizeArea`): output pixel o covers input [o * s, (o + 1) * s) with
  s = in / out and averages the pixels it overlaps, weighted by the overlap.
- antialias=True with "bilinear" (TF's `ScaleAndTranslate` with its triangle kernel): when
  downsampling by s > 1 the triangle is widened s times, so each output pixel averages all
  the input pixels it covers; weights that fall outside the image are dropped and the rest
  renormalized. Upsampling gives plain bilinear.
"""

import numpy as np

import numpyflow as tf
from numpyflow.ops import image_ops


def area_matrix(in_size, out_size):
    """(out_size, in_size) weights of TF's area resampling along one axis."""
    scale = in_size / out_size
    matrix = np.zeros((out_size, in_size))
    for o in range(out_size):
        start, end = o * scale, (o + 1) * scale
        for i in range(int(np.floor(start)), int(np.ceil(end))):
            overlap = min(i + 1, end) - max(i, start)
            matrix[o, min(i, in_size - 1)] += overlap / scale
    return matrix


def triangle_matrix(in_size, out_size):
    """(out_size, in_size) weights of TF's antialiased bilinear (triangle) resampling."""
    kernel_scale = max(in_size / out_size, 1.)
    centres = (np.arange(out_size) + 0.5) * (in_size / out_size)
    distance = (np.arange(in_size)[None, :] + 0.5 - centres[:, None]) / kernel_scale
    weights = np.maximum(0., 1. - np.abs(distance))
    totals = weights.sum(axis=1, keepdims=True)
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1.), 0.)


def _apply(images, rows, cols):
    """`rows` along the height and `cols` along the width of NHWC `images` (differentiable)."""
    n, h, w, c = images.shape
    out_h, out_w = rows.shape[0], cols.shape[0]
    dtype = images.dtype
    x = tf.reshape(tf.transpose(images, (1, 0, 2, 3)), (h, n * w * c))
    x = tf.matmul(tf.constant(rows, dtype), x)                               # (out_h, n*w*c)
    x = tf.reshape(tf.transpose(tf.reshape(x, (out_h, n, w, c)), (2, 1, 0, 3)),
                   (w, n * out_h * c))
    x = tf.matmul(tf.constant(cols, dtype), x)                               # (out_w, ...)
    return tf.transpose(tf.reshape(x, (out_w, n, out_h, c)), (1, 2, 0, 3))


def resize(images, size, method="bilinear", preserve_aspect_ratio=False, antialias=False,
           name=None):
    """Resizes images to `size` (`tf.image.resize`).

    Args:
      images: 4-D (batch, height, width, channels) or 3-D (height, width, channels).
      size: (new_height, new_width).
      method: "bilinear" (default; TF2's half-pixel centres), "nearest" or "area". Other TF
        methods ("bicubic", "lanczos3", ...) raise NotImplementedError.
      preserve_aspect_ratio: Resize to the largest size within `size` that keeps the
        input's aspect ratio.
      antialias: With "bilinear", widen the filter when downsampling (TF's triangle
        kernel). As in TF, it has no effect with "nearest" and "area".

    Returns:
      The resized images: float32 for integer images (the "nearest" method keeps the
      dtype); float images keep their dtype.

    >>> import numpy as np
    >>> x = np.arange(4., dtype=np.float32).reshape(1, 1, 4, 1)
    >>> resize(x, (1, 2), method="area").numpy().ravel()
    array([0.5, 2.5], dtype=float32)
    """
    method = str(getattr(method, "value", method)).lower()
    if method in image_ops._UNSUPPORTED_METHODS and method != "area":
        raise NotImplementedError(f"tf.image.resize: method={method!r} is not implemented in "
                                  f"numpyflow; use 'bilinear', 'nearest' or 'area'.")
    matrix = area_matrix if method == "area" else (
        triangle_matrix if antialias and method == "bilinear" else None)
    if matrix is None:
        return image_ops.resize(images, size, method=method,
                                preserve_aspect_ratio=preserve_aspect_ratio)
    size = image_ops._size_pair(size, "tf.image.resize")
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        images = tf.cast(images, tf.float32)
    rank = images.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"tf.image.resize: `images` must be 3-D (height, width, channels) or "
                         f"4-D (batch, height, width, channels); received shape "
                         f"{list(images.shape)}")
    batch = images if rank == 4 else tf.expand_dims(images, 0)
    in_hw = tuple(batch.shape[1:3])
    if min(in_hw) <= 0:
        raise ValueError(f"tf.image.resize: the input images are empty (height, width = "
                         f"{in_hw}).")
    if preserve_aspect_ratio:
        size = image_ops._aspect_preserving_size(in_hw, size)
    resized = _apply(batch, matrix(in_hw[0], size[0]), matrix(in_hw[1], size[1]))
    return resized if rank == 4 else tf.squeeze(resized, 0)
