"""Non-maximum suppression primitives (TF's `NonMaxSuppressionV5`,
`NonMaxSuppressionWithOverlaps` and `CombinedNonMaxSuppression`).

Greedy selection is a data-dependent loop over a few hundred boxes: it runs on arrays in the
forward, and has no gradient (as in TF). Each primitive returns one of its outputs, chosen by
the `part` attribute (as `Unique`), so a wrapper calls it once per output it needs.
The Python wrappers (argument checks, TF's signatures) live in `numpyflow.image.detection`.
"""

import heapq

from numpyflow.backend import xp
from numpyflow.framework.primitive import Primitive


def _iou_matrix(boxes):
    """(n, n) intersection over union; corners may come in either order, as TF."""
    with xp.errstate(all="ignore"):  # inf/NaN corners give NaN IoUs silently, as in TF.
        return _iou_of_float32(boxes.astype(xp.float32))


def _iou_of_float32(boxes):
    y_min = xp.minimum(boxes[:, 0], boxes[:, 2])
    y_max = xp.maximum(boxes[:, 0], boxes[:, 2])
    x_min = xp.minimum(boxes[:, 1], boxes[:, 3])
    x_max = xp.maximum(boxes[:, 1], boxes[:, 3])
    area = (y_max - y_min) * (x_max - x_min)
    height = xp.maximum(xp.minimum(y_max[:, None], y_max[None]) -
                        xp.maximum(y_min[:, None], y_min[None]), 0.)
    width = xp.maximum(xp.minimum(x_max[:, None], x_max[None]) -
                       xp.maximum(x_min[:, None], x_min[None]), 0.)
    inter = height * width
    iou = inter / (area[:, None] + area[None] - inter)
    # Empty boxes overlap nothing.
    return xp.where((area[:, None] > 0) & (area[None] > 0), iou, 0.).astype(xp.float32)


def greedy_nms(similarity, scores, max_output_size, threshold, score_threshold,
               soft_nms_sigma=0.):
    """TF's greedy (optionally soft, Bodla et al. 2017) suppression.

    Returns (selected indices, their possibly decayed scores), best first. A candidate is
    dropped when its similarity to a selected one exceeds `threshold`; with
    `soft_nms_sigma > 0` its score is instead multiplied by exp(-0.5 iou^2 / sigma) and it
    goes back into the queue, dropped once its score falls to `score_threshold`.
    """
    soft = soft_nms_sigma > 0
    scale = -0.5 / soft_nms_sigma if soft else 0.
    # heapq pops the smallest: (-score, index) gives the best score, ties to the lower index.
    queue = [(-float(s), i, 0) for i, s in enumerate(scores) if s > score_threshold]
    heapq.heapify(queue)
    selected, selected_scores = [], []
    while len(selected) < max_output_size and queue:
        negative, index, checked = heapq.heappop(queue)
        score = original = -negative
        suppressed = False
        # Only the boxes selected since this candidate was last looked at can change it.
        for j in range(len(selected) - 1, checked - 1, -1):
            sim = float(similarity[index, selected[j]])
            if soft or sim <= threshold:
                score *= float(xp.exp(xp.float32(scale * sim * sim)))
            else:
                score = 0.
            if not soft and sim > threshold:
                suppressed = True
                break
            if score <= score_threshold:
                break
        if suppressed:
            continue
        if score == original:
            selected.append(index)
            selected_scores.append(score)
        elif score > score_threshold:
            heapq.heappush(queue, (-score, index, len(selected)))
    return selected, selected_scores


def _padded(values, size, dtype):
    out = xp.zeros(size, dtype)
    out[:len(values)] = values
    return out


def _nms_output(selected, selected_scores, max_output_size, pad, part, score_dtype):
    size = max_output_size if pad else len(selected)
    if part == "indices":
        return _padded(selected, size, xp.int32)
    if part == "scores":
        return _padded(selected_scores, size, score_dtype)
    return xp.asarray(len(selected), xp.int32)


def _nms_forward(boxes, scores, max_output_size, iou_threshold, score_threshold,
                 soft_nms_sigma, pad_to_max_output_size, part):
    selected, selected_scores = greedy_nms(
        _iou_matrix(boxes), scores, int(max_output_size), float(iou_threshold),
        float(score_threshold), float(soft_nms_sigma))
    return _nms_output(selected, selected_scores, int(max_output_size),
                       pad_to_max_output_size, part, scores.dtype)


def _nms_overlaps_forward(overlaps, scores, max_output_size, overlap_threshold,
                          score_threshold, part):
    selected, selected_scores = greedy_nms(overlaps, scores, int(max_output_size),
                                           float(overlap_threshold), float(score_threshold))
    return _nms_output(selected, selected_scores, int(max_output_size), False, part,
                       scores.dtype)


NonMaxSuppressionV5 = Primitive("NonMaxSuppressionV5", _nms_forward,
                                output_shape_from_data=True)
NonMaxSuppressionWithOverlaps = Primitive("NonMaxSuppressionWithOverlaps",
                                          _nms_overlaps_forward, output_shape_from_data=True)


def _combined_forward(boxes, scores, max_output_size_per_class, max_total_size,
                      iou_threshold, score_threshold, pad_per_class, clip_boxes, part):
    batch, num_boxes, q, _ = boxes.shape
    num_classes = scores.shape[2]
    per_class, total = int(max_output_size_per_class), int(max_total_size)
    size = min(per_class * num_classes, total) if pad_per_class else total
    out_boxes = xp.zeros((batch, size, 4), xp.float32)
    out_scores = xp.zeros((batch, size), xp.float32)
    out_classes = xp.zeros((batch, size), xp.float32)
    valid = xp.zeros(batch, xp.int32)
    for b in range(batch):
        found = []
        for c in range(num_classes):
            class_boxes = boxes[b, :, c if q > 1 else 0, :]
            chosen, _ = greedy_nms(_iou_matrix(class_boxes), scores[b, :, c], per_class,
                                   float(iou_threshold), float(score_threshold))
            found += [(float(scores[b, i, c]), c, class_boxes[i]) for i in chosen]
        # Best scores first; ties keep class order (Python's sort is stable).
        found.sort(key=lambda item: -item[0])
        found = found[:size]
        valid[b] = len(found)
        for k, (score, c, box) in enumerate(found):
            out_boxes[b, k], out_scores[b, k], out_classes[b, k] = box, score, c
    if clip_boxes:
        out_boxes = xp.clip(out_boxes, 0., 1.)
    return {"boxes": out_boxes, "scores": out_scores, "classes": out_classes,
            "valid": valid}[part]


CombinedNonMaxSuppression = Primitive("CombinedNonMaxSuppression", _combined_forward)


# -- drawing boxes ---------------------------------------------------------------------------

def _draw_forward(images, boxes, colors):
    """TF's kernel: one-pixel outlines, box corners scaled by (size - 1) and truncated to
    ints as TF's C++ casts do, edges outside the image skipped, the rest clamped."""
    canvas = images.copy()
    _, height, width, depth = images.shape
    if colors.shape[1] < depth:
        raise ValueError(f"DrawBoundingBoxesV2: colors has {colors.shape[1]} components per "
                         f"colour, fewer than the images' {depth} channels")
    for b in range(images.shape[0]):
        for k, box in enumerate(boxes[b]):
            if not xp.isfinite(box).all():
                continue  # No pixel to draw at (TF's int casts of inf/NaN are undefined).
            color = colors[k % len(colors), :depth]
            # Python floats: huge corners scale without float32 overflow.
            y1, x1, y2, x2 = (float(v) for v in box)
            top, left = int(y1 * (height - 1)), int(x1 * (width - 1))
            bottom, right = int(y2 * (height - 1)), int(x2 * (width - 1))
            if top > bottom or left > right:
                continue  # TF logs and skips inverted boxes.
            if top >= height or bottom < 0 or left >= width or right < 0:
                continue
            top_c, bottom_c = max(top, 0), min(bottom, height - 1)
            left_c, right_c = max(left, 0), min(right, width - 1)
            if 0 <= top < height:
                canvas[b, top, left_c:right_c + 1] = color
            if 0 <= bottom < height:
                canvas[b, bottom, left_c:right_c + 1] = color
            if 0 <= left < width:
                canvas[b, top_c:bottom_c + 1, left] = color
            if 0 <= right < width:
                canvas[b, top_c:bottom_c + 1, right] = color
    return canvas


DrawBoundingBoxesV2 = Primitive("DrawBoundingBoxesV2", _draw_forward)
