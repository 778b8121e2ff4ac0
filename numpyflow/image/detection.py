"""Object-detection helpers on boxes: non-maximum suppression (plain, soft, on overlaps,
padded and batched, combined over classes), `draw_bounding_boxes` and
`sample_distorted_bounding_box`.

Boxes are [y1, x1, y2, x2], normalized or in pixels; either diagonal pair of corners is
accepted. None of these has a gradient (as in TF). The suppression loops are primitives
in `numpyflow.ops.detection_ops`; this module checks arguments and keeps TF's signatures.
"""

import numpy as np

import numpyflow as tf
from numpyflow.ops import detection_ops


def _scalar(value, name, op_name, kind=float):
    value = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    if value.ndim != 0:
        raise ValueError(f"tf.image.{op_name}: `{name}` must be a scalar; received shape "
                         f"{value.shape}")
    return kind(value)


def _boxes_scores(boxes, scores, op_name, box_rank=2):
    boxes, scores = tf.convert_to_tensor(boxes), tf.convert_to_tensor(scores)
    if boxes.shape.rank != box_rank or boxes.shape[-1] != 4:
        raise ValueError(f"tf.image.{op_name}: `boxes` must have shape (num_boxes, 4); "
                         f"received shape {boxes.shape}")
    if scores.shape.rank != box_rank - 1 or scores.shape[-1] != boxes.shape[-2]:
        raise ValueError(f"tf.image.{op_name}: `scores` must have shape ({boxes.shape[-2]},), "
                         f"one per box; received shape {scores.shape}")
    return boxes, scores


def _nms(boxes, scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma,
         pad, op_name):
    boxes, scores = _boxes_scores(boxes, scores, op_name)
    size = _scalar(max_output_size, "max_output_size", op_name, int)
    if size < 0:
        raise ValueError(f"tf.image.{op_name}: `max_output_size` must be >= 0; received {size}")
    iou = _scalar(iou_threshold, "iou_threshold", op_name)
    if not 0. <= iou <= 1.:
        raise ValueError(f"tf.image.{op_name}: `iou_threshold` must be in [0, 1]; received "
                         f"{iou}")
    sigma = _scalar(soft_nms_sigma, "soft_nms_sigma", op_name)
    if sigma < 0:
        raise ValueError(f"tf.image.{op_name}: `soft_nms_sigma` must be >= 0; received {sigma}")
    attrs = dict(max_output_size=size, iou_threshold=iou,
                 score_threshold=_scalar(score_threshold, "score_threshold", op_name),
                 soft_nms_sigma=sigma, pad_to_max_output_size=pad)
    return lambda part: detection_ops.NonMaxSuppressionV5(boxes, scores, part=part, **attrs)


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5,
                        score_threshold=float("-inf"), name=None):
    """Greedily keeps the best-scoring boxes, dropping any box whose IoU with a kept one
    exceeds `iou_threshold`; returns at most `max_output_size` int32 indices, best first.

    >>> import numpyflow as tf
    >>> boxes = [[0., 0., 1., 1.], [0., 0.1, 1., 1.1], [0., 2., 1., 3.]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7], 3).numpy()
    array([0, 2], dtype=int32)
    """
    run = _nms(boxes, scores, max_output_size, iou_threshold, score_threshold, 0., False,
               "non_max_suppression")
    return run("indices")


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0,
                                    name=None):
    """As `non_max_suppression`, also returning the kept scores. With `soft_nms_sigma > 0`
    (Soft-NMS, Bodla et al. 2017) overlapping boxes are not dropped but their scores decay
    by exp(-0.5 iou^2 / sigma); the returned scores are the decayed ones.

    >>> import numpyflow as tf
    >>> boxes = [[0., 0., 1., 1.], [0., 0.1, 1., 1.1]]
    >>> idx, kept = non_max_suppression_with_scores(boxes, [0.9, 0.8], 2, soft_nms_sigma=0.5)
    >>> idx.numpy(), kept.numpy().round(3)
    (array([0, 1], dtype=int32), array([0.9 , 0.41], dtype=float32))
    """
    run = _nms(boxes, scores, max_output_size, iou_threshold, score_threshold,
               soft_nms_sigma, False, "non_max_suppression_with_scores")
    return run("indices"), run("scores")


def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name=None):
    """Greedy suppression on a given (num_boxes, num_boxes) overlap matrix instead of IoU.

    >>> import numpyflow as tf
    >>> overlaps = [[1., 0.9, 0.], [0.9, 1., 0.], [0., 0., 1.]]
    >>> non_max_suppression_overlaps(overlaps, [0.5, 0.9, 0.1], 3).numpy()
    array([1, 2], dtype=int32)
    """
    op_name = "non_max_suppression_overlaps"
    overlaps, scores = tf.convert_to_tensor(overlaps), tf.convert_to_tensor(scores)
    if (overlaps.shape.rank != 2 or overlaps.shape[0] != overlaps.shape[1]
            or scores.shape.rank != 1 or scores.shape[0] != overlaps.shape[0]):
        raise ValueError(f"tf.image.{op_name}: `overlaps` must be (num_boxes, num_boxes) and "
                         f"`scores` (num_boxes,); received shapes {overlaps.shape} and "
                         f"{scores.shape}")
    size = _scalar(max_output_size, "max_output_size", op_name, int)
    if size < 0:
        raise ValueError(f"tf.image.{op_name}: `max_output_size` must be >= 0; received {size}")
    return detection_ops.NonMaxSuppressionWithOverlaps(
        overlaps, scores, max_output_size=size,
        overlap_threshold=_scalar(overlap_threshold, "overlap_threshold", op_name),
        score_threshold=_scalar(score_threshold, "score_threshold", op_name), part="indices")


def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5,
                               score_threshold=float("-inf"), pad_to_max_output_size=False,
                               name=None, sorted_input=False, canonicalized_coordinates=False,
                               tile_size=512):
    """`non_max_suppression` returning (indices, num_valid), also for batches.

    Args:
      boxes: (..., num_boxes, 4); scores: (..., num_boxes).
      pad_to_max_output_size: Zero-pad the indices to `max_output_size` (required for
        batched inputs, whose rows would otherwise differ in length).
      sorted_input, canonicalized_coordinates, tile_size: TF's speed hints; the result
        does not depend on them here.

    >>> import numpyflow as tf
    >>> boxes = [[0., 0., 1., 1.], [0., 0.1, 1., 1.1], [0., 2., 1., 3.]]
    >>> idx, n = non_max_suppression_padded(boxes, [0.9, 0.8, 0.7], 3, 0.5,
    ...                                     pad_to_max_output_size=True)
    >>> idx.numpy(), int(n)
    (array([0, 2, 0], dtype=int32), 2)
    """
    op_name = "non_max_suppression_padded"
    boxes, scores = tf.convert_to_tensor(boxes), tf.convert_to_tensor(scores)
    rank = boxes.shape.rank
    if rank is None or rank < 2:
        raise ValueError(f"tf.image.{op_name}: `boxes` must have shape (..., num_boxes, 4); "
                         f"received shape {boxes.shape}")
    if rank == 2:
        run = _nms(boxes, scores, max_output_size, iou_threshold, score_threshold, 0.,
                   pad_to_max_output_size, op_name)
        return run("indices"), run("valid")
    if not pad_to_max_output_size:
        raise ValueError(f"tf.image.{op_name}: batched inputs need "
                         f"pad_to_max_output_size=True; received boxes of shape {boxes.shape}")
    batch_shape = boxes.shape[:-2]
    flat_boxes = tf.reshape(boxes, [-1] + list(boxes.shape[-2:]))
    flat_scores = tf.reshape(scores, [-1, scores.shape[-1]])
    indices, valid = [], []
    for b in range(flat_boxes.shape[0]):
        run = _nms(flat_boxes[b], flat_scores[b], max_output_size, iou_threshold,
                   score_threshold, 0., True, op_name)
        indices.append(run("indices"))
        valid.append(run("valid"))
    return (tf.reshape(tf.stack(indices), list(batch_shape) + [-1]),
            tf.reshape(tf.stack(valid), list(batch_shape)))


def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size,
                                 iou_threshold=0.5, score_threshold=float("-inf"),
                                 pad_per_class=False, clip_boxes=True, name=None):
    """Per-class greedy suppression for a batch, then the best `max_total_size` detections
    over all classes.

    Args:
      boxes: (batch, num_boxes, q, 4) float; q is 1 (boxes shared by all classes) or
        num_classes.
      scores: (batch, num_boxes, num_classes) float.
      pad_per_class: Pad to min(max_output_size_per_class * num_classes, max_total_size)
        instead of max_total_size.
      clip_boxes: Clip the returned boxes to [0, 1].

    Returns:
      (nmsed_boxes (batch, max_detections, 4), nmsed_scores (batch, max_detections),
      nmsed_classes (batch, max_detections) as floats, valid_detections (batch,) int32),
      zero-padded after each image's valid detections.

    >>> import numpyflow as tf
    >>> boxes = tf.constant([[[[0., 0., 1., 1.]], [[0., 0., 0.9, 1.]]]])
    >>> out = combined_non_max_suppression(boxes, [[[0.9, 0.2], [0.8, 0.6]]], 2, 3)
    >>> out[2].numpy(), out[3].numpy()
    (array([[0., 1., 0.]], dtype=float32), array([2], dtype=int32))
    """
    op_name = "combined_non_max_suppression"
    boxes = tf.cast(tf.convert_to_tensor(boxes), tf.float32)
    scores = tf.cast(tf.convert_to_tensor(scores), tf.float32)
    if boxes.shape.rank != 4 or boxes.shape[-1] != 4:
        raise ValueError(f"tf.image.{op_name}: `boxes` must have shape (batch, num_boxes, q, "
                         f"4); received shape {boxes.shape}")
    if (scores.shape.rank != 3 or scores.shape[:2] != boxes.shape[:2]
            or boxes.shape[2] not in (1, scores.shape[2])):
        raise ValueError(f"tf.image.{op_name}: `scores` must have shape (batch, num_boxes, "
                         f"num_classes) with q = 1 or num_classes; received boxes "
                         f"{boxes.shape} and scores {scores.shape}")
    per_class = _scalar(max_output_size_per_class, "max_output_size_per_class", op_name, int)
    total = _scalar(max_total_size, "max_total_size", op_name, int)
    if per_class <= 0 or total <= 0:
        raise ValueError(f"tf.image.{op_name}: `max_output_size_per_class` and "
                         f"`max_total_size` must be positive; received {per_class} and "
                         f"{total}")
    iou = _scalar(iou_threshold, "iou_threshold", op_name)
    if not 0. <= iou <= 1.:
        raise ValueError(f"tf.image.{op_name}: `iou_threshold` must be in [0, 1]; received "
                         f"{iou}")
    attrs = dict(max_output_size_per_class=per_class, max_total_size=total,
                 iou_threshold=iou,
                 score_threshold=_scalar(score_threshold, "score_threshold", op_name),
                 pad_per_class=bool(pad_per_class), clip_boxes=bool(clip_boxes))
    return tuple(detection_ops.CombinedNonMaxSuppression(boxes, scores, part=part, **attrs)
                 for part in ("boxes", "scores", "classes", "valid"))


# TF's default colours (RGBA): yellow, blue, red, lime, purple, olive, maroon, navy, aqua,
# fuchsia.
_DEFAULT_COLORS = np.array(
    [[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
     [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]],
    np.float32)


def draw_bounding_boxes(images, boxes, colors, name=None):
    """Draws one-pixel box outlines onto a batch of float images.

    Args:
      images: (batch, height, width, depth) float32 or float16, depth 1, 3 or 4.
      boxes: (batch, num_boxes, 4) normalized [y1, x1, y2, x2].
      colors: (num_colors, >= depth) colours cycled over the boxes, or None for TF's
        default table (all 1 in the first channel for depth 1).

    >>> import numpyflow as tf
    >>> out = draw_bounding_boxes(tf.zeros((1, 4, 4, 1)), [[[0., 0., 1., 1.]]], [[1.]])
    >>> out.numpy()[0, ..., 0]
    array([[1., 1., 1., 1.],
           [1., 0., 0., 1.],
           [1., 0., 0., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"tf.image.draw_bounding_boxes: `images` must be 4-D (batch, height, "
                         f"width, depth); received shape {images.shape}")
    if images.dtype not in (tf.float32, tf.float16):
        raise TypeError(f"tf.image.draw_bounding_boxes: `images` must be float32 or float16; "
                        f"received {images.dtype.name}")
    if images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"tf.image.draw_bounding_boxes: images must have 1, 3 or 4 "
                         f"channels; received shape {images.shape}")
    boxes = tf.cast(tf.convert_to_tensor(boxes), tf.float32)
    if boxes.shape.rank != 3 or boxes.shape[-1] != 4 or boxes.shape[0] != images.shape[0]:
        raise ValueError(f"tf.image.draw_bounding_boxes: `boxes` must have shape "
                         f"({images.shape[0]}, num_boxes, 4); received shape {boxes.shape}")
    if colors is None:
        colors = _DEFAULT_COLORS.copy()
        if images.shape[-1] == 1:
            colors[:, 0] = 1.
    colors = tf.cast(tf.convert_to_tensor(colors), images.dtype)
    if colors.shape.rank != 2 or colors.shape[0] == 0:
        raise ValueError(f"tf.image.draw_bounding_boxes: `colors` must have shape "
                         f"(num_colors, channels); received shape {colors.shape}")
    return detection_ops.DrawBoundingBoxesV2(images, boxes, colors)


def _crop_from_uniforms(uniforms, height, width, boxes, min_object_covered,
                        aspect_ratio_range, area_range):
    """The first of the candidate crops drawn from `uniforms` that covers enough of a box,
    else the whole image (TF's algorithm, on this module's random numbers)."""
    min_area, max_area = area_range[0] * height * width, area_range[1] * height * width
    low_ratio, high_ratio = aspect_ratio_range
    for u_ratio, u_height, u_y, u_x in uniforms:
        ratio = low_ratio + u_ratio * (high_ratio - low_ratio)
        # Crop heights that give areas in range at this aspect ratio (width = ratio * height).
        low = int(np.rint(np.sqrt(min_area / ratio)))
        high = int(np.rint(np.sqrt(max_area / ratio)))
        if int(np.rint(high * ratio)) > width:
            high = int((width + 0.5 - 1e-7) / ratio)  # The widest crop that still fits.
        high = min(high, height)
        low = min(low, high)
        crop_h = low + int(u_height * (high - low + 1)) if high > low else low
        crop_w = int(np.rint(crop_h * ratio))
        if crop_h * crop_w < min_area:
            crop_h += 1
            crop_w = int(np.rint(crop_h * ratio))
        area = crop_h * crop_w
        if (area < min_area or area > max_area or crop_w > width or crop_h > height
                or crop_w <= 0 or crop_h <= 0):
            continue
        y = int(u_y * (height - crop_h + 1))
        x = int(u_x * (width - crop_w + 1))
        for ymin, xmin, ymax, xmax in boxes:
            box_area = (ymax - ymin) * (xmax - xmin)
            inter = (max(min(ymax, y + crop_h) - max(ymin, y), 0)
                     * max(min(xmax, x + crop_w) - max(xmin, x), 0))
            if box_area > 0 and inter / box_area >= min_object_covered:
                return y, x, crop_h, crop_w
    return 0, 0, height, width


def _sample_box(image_size, bounding_boxes, uniforms, min_object_covered, aspect_ratio_range,
                area_range, use_image_if_no_bounding_boxes, op_name):
    size = np.asarray(tf.convert_to_tensor(image_size).numpy()).reshape(-1)
    if size.shape != (3,) or size.min() <= 0:
        raise ValueError(f"tf.image.{op_name}: `image_size` must be 3 positive integers "
                         f"[height, width, channels]; received {size.tolist()}")
    height, width = int(size[0]), int(size[1])
    boxes = np.asarray(tf.convert_to_tensor(bounding_boxes).numpy(), np.float64)
    if boxes.ndim != 3 or boxes.shape[-1] != 4:
        raise ValueError(f"tf.image.{op_name}: `bounding_boxes` must have shape (batch, N, 4); "
                         f"received shape {boxes.shape}")
    boxes = boxes.reshape(-1, 4)
    if boxes.shape[0] == 0:
        if not use_image_if_no_bounding_boxes:
            raise tf.errors.InvalidArgumentError(
                None, None, f"tf.image.{op_name}: no bounding boxes given; pass some or set "
                f"use_image_if_no_bounding_boxes=True")
        boxes = np.array([[0., 0., 1., 1.]])
    for lo, hi, what in ((*aspect_ratio_range, "aspect_ratio_range"),
                         (*area_range, "area_range")):
        if not 0 < lo <= hi:
            raise ValueError(f"tf.image.{op_name}: `{what}` must be (low, high) with "
                             f"0 < low <= high; received {(lo, hi)}")
    pixels = boxes * [height, width, height, width]
    y, x, crop_h, crop_w = _crop_from_uniforms(
        np.asarray(uniforms.numpy(), np.float64), height, width, pixels,
        float(min_object_covered), aspect_ratio_range, area_range)
    begin = tf.constant([y, x, 0], tf.int32)
    crop = tf.constant([crop_h, crop_w, -1], tf.int32)
    box = tf.constant([[[y / height, x / width, (y + crop_h) / height, (x + crop_w) / width]]],
                      tf.float32)
    return begin, crop, box


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=0, min_object_covered=0.1,
                                  aspect_ratio_range=None, area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """A random crop (for augmentation) with the given aspect ratio and area ranges that
    covers at least `min_object_covered` of one of `bounding_boxes`; after `max_attempts`
    failures, the whole image.

    The constraints and the search are TF's; the random numbers come from numpyflow's
    generators, so the crop chosen for a seed differs from TF's.

    Returns:
      (begin, size, bboxes): `tf.slice(image, begin, size)` is the crop; bboxes (1, 1, 4)
      is it in normalized coordinates.

    >>> import numpyflow as tf
    >>> begin, size, box = sample_distorted_bounding_box([40, 60, 3], [[[0., 0., 1., 1.]]])
    >>> tf.slice(tf.zeros((40, 60, 3)), begin, size).shape.rank
    3
    """
    attempts = 100 if max_attempts is None else int(max_attempts)
    uniforms = tf.random.uniform((attempts, 4), seed=seed or None)
    return _sample_box(image_size, bounding_boxes, uniforms, min_object_covered,
                       aspect_ratio_range or (0.75, 1.33), area_range or (0.05, 1.0),
                       use_image_if_no_bounding_boxes, "sample_distorted_bounding_box")


def stateless_sample_distorted_bounding_box(image_size, bounding_boxes, seed,
                                            min_object_covered=0.1,
                                            aspect_ratio_range=None, area_range=None,
                                            max_attempts=None,
                                            use_image_if_no_bounding_boxes=None, name=None):
    """As `sample_distorted_bounding_box`, deterministic in the shape-(2,) `seed`.

    >>> import numpyflow as tf
    >>> a = stateless_sample_distorted_bounding_box([40, 60, 3], [[[0., 0., 1., 1.]]], [1, 2])
    >>> b = stateless_sample_distorted_bounding_box([40, 60, 3], [[[0., 0., 1., 1.]]], [1, 2])
    >>> bool(tf.reduce_all(a[0] == b[0]))
    True
    """
    attempts = 100 if max_attempts is None else int(max_attempts)
    uniforms = tf.random.stateless_uniform((attempts, 4), seed=seed)
    return _sample_box(image_size, bounding_boxes, uniforms, min_object_covered,
                       aspect_ratio_range or (0.75, 1.33), area_range or (0.05, 1.0),
                       use_image_if_no_bounding_boxes, "stateless_sample_distorted_bounding_box")
