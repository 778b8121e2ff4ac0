"""Op cases for the tf.image gap fill: non-maximum suppression and box drawing.

References take another route than the primitives: IoU pair by pair in float64, and the
plain textbook greedy loop (sort once, keep a box unless it overlaps a kept one).
"""

import numpy as np

from numpyflow.image import detection
from tests.ops.opcheck import case

_rng = np.random.RandomState(7)
_corner = _rng.rand(12, 2)
_BOXES = np.concatenate([_corner, _corner + 0.1 + 0.4 * _rng.rand(12, 2)], axis=1)
_BOXES[::4] = _BOXES[::4][:, [2, 3, 0, 1]]  # Some boxes with their corners swapped.
_SCORES = _rng.permutation(12) / 12. + 0.01


def _iou(a, b):
    a = [min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3])]
    b = [min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])]
    inter = (max(min(a[2], b[2]) - max(a[0], b[0]), 0)
             * max(min(a[3], b[3]) - max(a[1], b[1]), 0))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _greedy(similarity, scores, size, threshold, score_threshold=-np.inf):
    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if len(kept) < size and scores[i] > score_threshold and all(
                similarity(i, k) <= threshold for k in kept):
            kept.append(i)
    return np.array(kept, np.int32)


def _nms_reference(boxes, scores, size=6, threshold=0.2, score_threshold=-np.inf):
    return _greedy(lambda i, j: _iou(boxes[i], boxes[j]), scores, size, threshold,
                   score_threshold)


def _combined_reference(boxes, scores, part):
    found = []
    for c in range(scores.shape[2]):
        found += [(scores[0, i, c], c, boxes[0, i, 0])
                  for i in _nms_reference(boxes[0, :, 0], scores[0, :, c], 3, 0.3)]
    found = sorted(found, key=lambda item: -item[0])[:5]
    out = {"boxes": np.zeros((1, 5, 4), np.float32), "classes": np.zeros((1, 5), np.float32)}
    for k, (_, c, box) in enumerate(found):
        out["boxes"][0, k], out["classes"][0, k] = np.clip(box, 0, 1), c
    return out[part]


def _outline(images, colors):
    """The reference for a box covering the whole image: its border in the first colour."""
    out = images.copy()
    out[:, [0, -1], :, :] = colors[0]
    out[:, :, [0, -1], :] = colors[0]
    return out


_OVERLAPS = np.array([[1., .8, .1, 0.], [.8, 1., .6, .2], [.1, .6, 1., .3], [0., .2, .3, 1.]])

CASES = [
    case("NonMaxSuppressionV5", lambda b, s: detection.non_max_suppression(b, s, 6, 0.2),
         _nms_reference, _BOXES.astype(np.float32), _SCORES.astype(np.float32)),
    case("NonMaxSuppressionV5",
         lambda b, s: detection.non_max_suppression(b, s, 20, 0.3, score_threshold=0.4),
         lambda b, s: _nms_reference(b, s, 20, 0.3, 0.4), _BOXES.astype(np.float32),
         _SCORES.astype(np.float32), id="NonMaxSuppressionV5-score_threshold"),
    case("NonMaxSuppressionV5",
         lambda b, s: detection.non_max_suppression_with_scores(b, s, 6, 0.2)[1],
         lambda b, s: s[_nms_reference(b, s)], _BOXES, _SCORES, grad=False,
         id="NonMaxSuppressionV5-scores"),
    case("NonMaxSuppressionWithOverlaps",
         lambda o, s: detection.non_max_suppression_overlaps(o, s, 4, 0.5),
         lambda o, s: _greedy(lambda i, j: o[i, j], s, 4, 0.5), _OVERLAPS.astype(np.float32),
         np.array([.9, .95, .5, .4], np.float32)),
    case("CombinedNonMaxSuppression",
         lambda b, s: detection.combined_non_max_suppression(b, s, 3, 5, 0.3)[0],
         lambda b, s: _combined_reference(b, s, "boxes"),
         _BOXES[None, :, None].astype(np.float32),
         _rng.rand(1, 12, 2).astype(np.float32)),
    case("CombinedNonMaxSuppression",
         lambda b, s: detection.combined_non_max_suppression(b, s, 3, 5, 0.3)[2],
         lambda b, s: _combined_reference(b, s, "classes"),
         _BOXES[None, :, None].astype(np.float32), _rng.rand(1, 12, 2).astype(np.float32),
         id="CombinedNonMaxSuppression-classes"),
    case("DrawBoundingBoxesV2",
         lambda i, c: detection.draw_bounding_boxes(i, [[[0., 0., 1., 1.]]], c),
         _outline, _rng.rand(1, 5, 6, 3).astype(np.float32),
         np.array([[1., .5, 0.], [0., 1., 0.]], np.float32)),
]
