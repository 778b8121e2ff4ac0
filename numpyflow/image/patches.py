"""Taking pieces out of images: `extract_patches` (sliding windows) and `crop_and_resize`
(boxes resampled to one size).

Both are gathers with computed indices plus, for `crop_and_resize`, a bilinear blend, so
gradients come free: to the images through the gathers, and to the boxes through the
blending weights (which depend on the box corners exactly as in TF's gradient kernels).
"""

import math

import numpy as np

import numpyflow as tf
from numpyflow.framework import errors


def _four(values, name):
    values = list(values)
    if len(values) != 4 or values[0] != 1 or values[3] != 1:
        raise ValueError(f"tf.image.extract_patches: `{name}` must be 4 integers "
                         f"[1, rows, cols, 1]; received {values}")
    if min(values) < 1:
        raise ValueError(f"tf.image.extract_patches: `{name}` must be positive; received "
                         f"{values}")
    return int(values[1]), int(values[2])


def _window_indices(size, kernel, stride, rate, padding):
    """(out, kernel) input indices of each window along one axis, and the padding before."""
    span = kernel + (kernel - 1) * (rate - 1)  # The kernel's extent with holes (rates).
    if padding == "VALID" and span > size:
        raise errors.InvalidArgumentError(
            None, None, f"tf.image.extract_patches: the window spans {span} pixels (size "
            f"{kernel}, rate {rate}) but the image has {size}: no VALID patch fits")
    if padding == "VALID":
        out = math.ceil((size - span + 1) / stride)
        before = 0
    else:
        out = math.ceil(size / stride)
        before = max((out - 1) * stride + span - size, 0) // 2
    starts = np.arange(out) * stride
    return (starts[:, None] + np.arange(kernel)[None, :] * rate).astype(np.int32), before


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """Sliding `sizes` windows of a 4-D batch, each flattened into the depth axis.

    Args:
      images: (batch, rows, cols, depth).
      sizes: [1, ksize_rows, ksize_cols, 1], the window.
      strides: [1, stride_rows, stride_cols, 1], how far apart windows start.
      rates: [1, rate_rows, rate_cols, 1], the spacing of the pixels inside a window.
      padding: "VALID" (windows inside the image) or "SAME" (zero padding, out = in/stride).

    Returns:
      (batch, out_rows, out_cols, ksize_rows * ksize_cols * depth), each window's pixels in
      row-major order with their channels innermost.

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(16), (1, 4, 4, 1))
    >>> extract_patches(x, [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID").numpy()[0, 0]
    array([[0, 1, 4, 5],
           [2, 3, 6, 7]], dtype=int32)
    """
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"tf.image.extract_patches: `images` must be 4-D (batch, rows, "
                         f"cols, depth); received shape {images.shape}")
    if not isinstance(padding, str) or padding.upper() not in ("VALID", "SAME"):
        raise ValueError(f"tf.image.extract_patches: `padding` must be 'VALID' or 'SAME'; "
                         f"received {padding!r}")
    padding = padding.upper()
    (k_rows, k_cols), (s_rows, s_cols), (r_rows, r_cols) = (
        _four(sizes, "sizes"), _four(strides, "strides"), _four(rates, "rates"))
    batch, rows, cols, depth = images.shape
    batch = -1 if batch is None else batch  # Static when known: -1 cannot size 0 images.
    row_index, row_pad = _window_indices(rows, k_rows, s_rows, r_rows, padding)
    col_index, col_pad = _window_indices(cols, k_cols, s_cols, r_cols, padding)
    if padding == "SAME":
        # Zero padding after as well, far enough that every index lands inside.
        row_after = max(int(row_index.max(initial=0)) + 1 - rows - row_pad, 0)
        col_after = max(int(col_index.max(initial=0)) + 1 - cols - col_pad, 0)
        images = tf.pad(images, [[0, 0], [row_pad, row_after], [col_pad, col_after], [0, 0]])
    out_rows, out_cols = row_index.shape[0], col_index.shape[0]
    x = tf.gather(images, tf.constant(row_index.reshape(-1)), axis=1)
    x = tf.gather(x, tf.constant(col_index.reshape(-1)), axis=2)
    x = tf.reshape(x, [batch, out_rows, k_rows, out_cols, k_cols, depth])
    x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
    return tf.reshape(x, [batch, out_rows, out_cols, k_rows * k_cols * depth])


def _sample_points(start, end, size, crop):
    """(boxes, crop) sampling positions along one axis, in pixels, as TF's kernel."""
    if crop > 1:
        steps = tf.constant(np.arange(crop) / (crop - 1), tf.float32)
        return (start[:, None] * (1. - steps) + end[:, None] * steps) * float(size - 1)
    return (0.5 * (start + end) * float(size - 1))[:, None]


def crop_and_resize(image, boxes, box_indices, crop_size, method="bilinear",
                    extrapolation_value=0.0, name=None):
    """Crops each box out of its image and resamples it to `crop_size` (float32 output).

    Args:
      image: (batch, height, width, depth) images (any real dtype).
      boxes: (num_boxes, 4) float boxes [y1, x1, y2, x2] in normalized coordinates (0 and
        1 are the first and last pixel centres); y1 > y2 flips the crop; boxes may reach
        outside [0, 1].
      box_indices: (num_boxes,) int, which image each box is taken from.
      crop_size: [crop_height, crop_width], positive.
      method: "bilinear" or "nearest".
      extrapolation_value: The value of sampling points outside the image.

    Returns:
      (num_boxes, crop_height, crop_width, depth) float32. Gradients flow to `image` and
      `boxes`.

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(16.), (1, 4, 4, 1))
    >>> crop_and_resize(x, [[0., 0., 1., 1.]], [0], [2, 2]).numpy()[0, ..., 0]
    array([[ 0.,  3.],
           [12., 15.]], dtype=float32)
    """
    image = tf.convert_to_tensor(image)
    boxes = tf.cast(tf.convert_to_tensor(boxes), tf.float32)
    given_tensor = tf.is_tensor(box_indices)
    box_indices = tf.convert_to_tensor(box_indices)
    if image.shape.rank != 4:
        raise ValueError(f"tf.image.crop_and_resize: `image` must be 4-D (batch, height, "
                         f"width, depth); received shape {image.shape}")
    if boxes.shape.rank != 2 or boxes.shape[1] != 4:
        raise ValueError(f"tf.image.crop_and_resize: `boxes` must have shape (num_boxes, 4); "
                         f"received shape {boxes.shape}")
    if box_indices.shape.rank != 1 or box_indices.shape[0] != boxes.shape[0]:
        raise ValueError(f"tf.image.crop_and_resize: `box_indices` must have shape "
                         f"({boxes.shape[0]},), one per box; received shape "
                         f"{box_indices.shape}")
    if not box_indices.dtype.is_integer:
        raise TypeError(f"tf.image.crop_and_resize: `box_indices` must be int32 or int64; "
                        f"received {box_indices.dtype.name}")
    crop = [int(v) for v in np.asarray(crop_size).reshape(-1)]
    if len(crop) != 2 or min(crop) <= 0:
        raise ValueError(f"tf.image.crop_and_resize: `crop_size` must be 2 positive integers "
                         f"[crop_height, crop_width]; received {crop}")
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"tf.image.crop_and_resize: `method` must be 'bilinear' or "
                         f"'nearest'; received {method!r}")
    batch, height, width, _ = image.shape
    if not given_tensor:
        # Python or NumPy indices are checked here, for a message naming them; a Tensor is
        # left to the gather (which also rejects them), so that tracing never reads it.
        indices = box_indices.numpy()
        if indices.size and (indices.min() < 0 or indices.max() >= batch):
            raise errors.InvalidArgumentError(
                None, None, f"tf.image.crop_and_resize: box_indices has values outside "
                f"[0, {batch}): {indices.tolist()}")
    crop_h, crop_w = crop
    image = tf.cast(image, tf.float32)
    ys = _sample_points(boxes[:, 0], boxes[:, 2], height, crop_h)            # (n, crop_h)
    xs = _sample_points(boxes[:, 1], boxes[:, 3], width, crop_w)             # (n, crop_w)
    # Points outside the image take the extrapolation value (a whole row or column).
    inside = ((ys >= 0.) & (ys <= height - 1.))[:, :, None] & (
        (xs >= 0.) & (xs <= width - 1.))[:, None, :]
    n = tf.shape(boxes)[0]
    which = tf.cast(box_indices, tf.int32)[:, None, None]

    def pick(pixels, y_index, x_index):
        y_index = tf.clip_by_value(tf.cast(y_index, tf.int32), 0, height - 1)
        x_index = tf.clip_by_value(tf.cast(x_index, tf.int32), 0, width - 1)
        full = tf.stack([n, crop_h, crop_w])
        index = tf.stack([tf.broadcast_to(which, full),
                          tf.broadcast_to(y_index[:, :, None], full),
                          tf.broadcast_to(x_index[:, None, :], full)], axis=-1)
        return tf.gather_nd(pixels, index)                              # (n, crop_h, crop_w, d)

    def bilinear(pixels, ys, xs):
        top, left = tf.floor(ys), tf.floor(xs)
        bottom, right = tf.math.ceil(ys), tf.math.ceil(xs)
        # The weights keep their dependence on the boxes (floor has no gradient).
        y_lerp = (ys - top)[:, :, None, None]
        x_lerp = (xs - left)[:, None, :, None]
        upper = pick(pixels, top, left) + (pick(pixels, top, right)
                                           - pick(pixels, top, left)) * x_lerp
        lower = pick(pixels, bottom, left) + (pick(pixels, bottom, right)
                                              - pick(pixels, bottom, left)) * x_lerp
        return upper + (lower - upper) * y_lerp

    if method == "nearest":
        # TF rounds half away from zero; inside the image the positions are >= 0.
        crops = pick(image, tf.floor(ys + 0.5), tf.floor(xs + 0.5))
        # TF's box gradient is the bilinear one whatever the method (its
        # CropAndResizeGradBoxes knows no other): add it without changing the values.
        smooth = bilinear(tf.stop_gradient(image), ys, xs)
        crops = crops + (smooth - tf.stop_gradient(smooth))
    else:
        crops = bilinear(image, ys, xs)
    return tf.where(inside[:, :, :, None], crops,
                    tf.cast(extrapolation_value, tf.float32))
