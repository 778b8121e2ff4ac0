"""Op cases for numpyflow.ops.image_ops, against per-pixel NumPy references.

The references follow TF's kernels pixel by pixel (loops, no shared code with the ops).
The backward primitives are linear in the upstream gradient: their reference is the
adjoint of the forward reference, built column by column from basis images.
"""

import math

import numpy as np

import numpyflow as tf
from tests.ops.cases_activation import grad_at
from tests.ops.opcheck import case, rand

# -- references ---------------------------------------------------------------------------


def np_resize_bilinear(x, size):
    """TF2 `tf.image.resize(method="bilinear")`: half-pixel centres, edges clamped."""
    n, h, w, c = x.shape
    out = np.zeros((n,) + tuple(size) + (c,), dtype=x.dtype)
    for i in range(size[0]):
        for j in range(size[1]):
            sy = (i + 0.5) * h / size[0] - 0.5
            sx = (j + 0.5) * w / size[1] - 0.5
            y0, x0 = math.floor(sy), math.floor(sx)
            ly, lx = sy - y0, sx - x0
            top, bottom = min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1)
            left, right = min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1)
            upper = x[:, top, left] * (1 - lx) + x[:, top, right] * lx
            lower = x[:, bottom, left] * (1 - lx) + x[:, bottom, right] * lx
            out[:, i, j] = upper * (1 - ly) + lower * ly
    return out


def np_resize_nearest(x, size):
    n, h, w, c = x.shape
    out = np.zeros((n,) + tuple(size) + (c,), dtype=x.dtype)
    for i in range(size[0]):
        for j in range(size[1]):
            sy = min(int(math.floor((i + 0.5) * h / size[0])), h - 1)
            sx = min(int(math.floor((j + 0.5) * w / size[1])), w - 1)
            out[:, i, j] = x[:, sy, sx]
    return out


def _fill_index(coord, length, fill_mode):
    """An integer pixel index mapped inside [0, length) by `fill_mode` (None: outside)."""
    if 0 <= coord < length:
        return coord
    if fill_mode == "constant":
        return None
    if fill_mode == "nearest":
        return min(max(coord, 0), length - 1)
    if fill_mode == "wrap":
        return coord % length
    period = coord % (2 * length)  # reflect: (d c b a | a b c d | d c b a)
    return period if period < length else 2 * length - 1 - period


def np_transform(x, transforms, interpolation="bilinear", fill_mode="constant",
                 fill_value=0., output_shape=None):
    """TF's ImageProjectiveTransformV3, one output pixel at a time."""
    n, h, w, c = x.shape
    out_h, out_w = output_shape or (h, w)
    transforms = np.broadcast_to(np.reshape(transforms, (-1, 8)), (n, 8))
    out = np.zeros((n, out_h, out_w, c), dtype=x.dtype)

    def read(b, yy, xx):
        yy, xx = _fill_index(yy, h, fill_mode), _fill_index(xx, w, fill_mode)
        return np.full(c, fill_value) if yy is None or xx is None else x[b, yy, xx]

    for b in range(n):
        a0, a1, a2, b0, b1, b2, c0, c1 = transforms[b]
        for i in range(out_h):
            for j in range(out_w):
                k = c0 * j + c1 * i + 1
                sx, sy = (a0 * j + a1 * i + a2) / k, (b0 * j + b1 * i + b2) / k
                if fill_mode != "constant":  # Points outside are clamped to the border.
                    sx, sy = _clamped_fill(sx, w, fill_mode), _clamped_fill(sy, h, fill_mode)
                if interpolation == "nearest":
                    out[b, i, j] = read(b, int(math.floor(sy + 0.5)), int(math.floor(sx + 0.5)))
                    continue
                y0, x0 = math.floor(sy), math.floor(sx)
                ly, lx = sy - y0, sx - x0
                out[b, i, j] = ((1 - ly) * ((1 - lx) * read(b, y0, x0) + lx * read(b, y0, x0 + 1))
                                + ly * ((1 - lx) * read(b, y0 + 1, x0)
                                        + lx * read(b, y0 + 1, x0 + 1)))
    return out


def _clamped_fill(coord, length, fill_mode):
    """A real coordinate brought inside [0, length - 1] (TF maps before interpolating)."""
    if fill_mode == "reflect":
        period = 2 * length
        coord = (coord + 0.5) % period - 0.5
        if coord > length - 0.5:
            coord = period - 1 - coord
    elif fill_mode == "wrap":
        coord = coord % length
    return min(max(coord, 0.), length - 1.)


def np_adjoint(forward, input_shape, dy):
    """L^T dy for the linear map L = `forward`, from its columns on basis inputs."""
    size = int(np.prod(input_shape))
    result = np.zeros(size)
    for k in range(size):
        basis = np.zeros(size)
        basis[k] = 1.
        result[k] = np.sum(forward(basis.reshape(input_shape)) * dy)
    return result.reshape(input_shape)


def np_rotation_transforms(angles, height, width):
    rows = []
    for angle in angles:
        cos, sin = math.cos(angle), math.sin(angle)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2
        rows.append([cos, -sin, x_offset, sin, cos, y_offset, 0., 0.])
    return np.array(rows)


# -- cases --------------------------------------------------------------------------------

images = rand(2, 3, 4, 2)
rotate_30 = np_rotation_transforms([0.5, -0.3], 3, 4)
zoom_shift = np.array([0.7, 0.2, -0.6, -0.1, 1.3, 0.4, 0., 0.])
perspective = np.array([1.1, 0.1, -0.2, 0.05, 0.9, 0.3, 0.02, -0.03])
shift = np.array([[1., 0., -1., 0., 1., 1., 0., 0.]])


def _transform(transforms, **kwargs):
    return lambda x: tf.image.affine_transform(x, tf.constant(transforms), **kwargs)


def _reference(transforms, **kwargs):
    return lambda x: np_transform(x, transforms, **kwargs)


CASES = [
    case("ResizeBilinear", lambda x: tf.image.resize(x, (5, 7)),
         lambda x: np_resize_bilinear(x, (5, 7)), images, id="resize_bilinear_up"),
    case("ResizeBilinear", lambda x: tf.image.resize(x, (2, 3)),
         lambda x: np_resize_bilinear(x, (2, 3)), rand(1, 5, 7, 1), id="resize_bilinear_down"),
    case("ResizeBilinear", lambda x: tf.image.resize(x, (6, 2)),
         lambda x: np_resize_bilinear(x[None], (6, 2))[0], rand(3, 4, 2),
         id="resize_bilinear_single_image"),
    case("ResizeBilinear", lambda x: tf.image.resize(x, (5, 6)),
         lambda x: np_resize_bilinear(x, (5, 6)), images.astype(np.float32), rtol=1e-5,
         id="resize_bilinear_float32"),
    case("ResizeNearestNeighbor", lambda x: tf.image.resize(x, (5, 7), "nearest"),
         lambda x: np_resize_nearest(x, (5, 7)), images, id="resize_nearest_up"),
    case("ResizeNearestNeighbor", lambda x: tf.image.resize(x, (2, 3), method="nearest"),
         lambda x: np_resize_nearest(x, (2, 3)), rand(1, 5, 7, 2), id="resize_nearest_down"),
    case("ResizeBilinearGrad", grad_at(lambda x: tf.image.resize(x, (5, 3)), images),
         lambda dy: np_adjoint(lambda x: np_resize_bilinear(x, (5, 3)), images.shape, dy),
         rand(2, 5, 3, 2)),
    case("ResizeNearestNeighborGrad",
         grad_at(lambda x: tf.image.resize(x, (2, 7), "nearest"), images),
         lambda dy: np_adjoint(lambda x: np_resize_nearest(x, (2, 7)), images.shape, dy),
         rand(2, 2, 7, 2)),

    case("ImageProjectiveTransformV3", _transform(rotate_30), _reference(rotate_30), images,
         id="transform_rotation_bilinear_constant"),
    case("ImageProjectiveTransformV3", _transform(rotate_30, fill_mode="reflect"),
         _reference(rotate_30, fill_mode="reflect"), images, id="transform_rotation_reflect"),
    case("ImageProjectiveTransformV3", _transform(zoom_shift, fill_mode="wrap"),
         _reference(zoom_shift, fill_mode="wrap"), images, id="transform_zoom_wrap"),
    case("ImageProjectiveTransformV3", _transform(zoom_shift, fill_mode="nearest"),
         _reference(zoom_shift, fill_mode="nearest"), images, id="transform_zoom_nearest_fill"),
    case("ImageProjectiveTransformV3",
         _transform(perspective, fill_mode="constant", fill_value=0.5),
         _reference(perspective, fill_mode="constant", fill_value=0.5), images,
         id="transform_perspective_fill_value"),
    case("ImageProjectiveTransformV3",
         _transform(rotate_30, interpolation="nearest", fill_mode="reflect"),
         _reference(rotate_30, interpolation="nearest", fill_mode="reflect"), images,
         id="transform_rotation_nearest_interpolation"),
    case("ImageProjectiveTransformV3", _transform(shift, output_shape=(2, 5)),
         _reference(shift, output_shape=(2, 5)), images.astype(np.float32),
         id="transform_output_shape_float32"),
    case("ImageProjectiveTransformV3Grad", grad_at(_transform(rotate_30), images),
         lambda dy: np_adjoint(_reference(rotate_30), images.shape, dy), rand(2, 3, 4, 2)),
    case("AnglesToProjectiveTransforms",
         lambda a: tf.image.angles_to_projective_transforms(a, 5, 3),
         lambda a: np_rotation_transforms(a, 5, 3), rand(4), grad=False),
]


# -- tf.image.random_flip_*: one op (RandomFlip), whose gradient flips dy alike (FlipWhere) -----

def seeded_flip(seed, flip=tf.image.random_flip_left_right):
    """A random flip with the same draws on every call (the streams restart at set_seed)."""
    def fn(x):
        tf.random.set_seed(1234)
        return flip(x, seed=seed)
    return fn


def np_random_flip(seed, axis):
    """TF's rules on float32 uniform draws from the (global 1234, op `seed`) stream: one image
    flips when its draw is below 1/2, each image of a batch when its draw is above."""
    def reference(x):
        rng = np.random.default_rng((1234, seed))
        if x.ndim == 3:
            return np.flip(x, axis) if rng.random(dtype=np.float32) < 0.5 else x
        flips = rng.random((x.shape[0],), dtype=np.float32) > 0.5
        return np.where(flips[:, None, None, None], np.flip(x, axis), x)
    return reference


def flip_where(flips, axis):
    from numpyflow.ops import image_ops
    return lambda x: image_ops.FlipWhere(x, flips=np.asarray(flips), axis=axis)


CASES += [
    # Seed 1 draws below 1/2 first (a flip), seed 5 above (the image as it is).
    case("RandomFlip", seeded_flip(1), np_random_flip(1, -2), rand(3, 4, 2),
         id="random_flip_left_right_flips"),
    case("RandomFlip", seeded_flip(5), np_random_flip(5, -2), rand(3, 4, 2),
         id="random_flip_left_right_keeps"),
    case("RandomFlip", seeded_flip(3, tf.image.random_flip_up_down), np_random_flip(3, -3),
         rand(5, 3, 4, 2), id="random_flip_up_down_batch"),
    case("FlipWhere", flip_where([True, False, True], -2),
         lambda x: np.concatenate([x[:1, :, ::-1], x[1:2], x[2:, :, ::-1]]), rand(3, 2, 4, 1)),
    case("FlipWhere", flip_where(False, -3), lambda x: x, rand(2, 4, 3), id="flip_where_keeps"),
]
