"""Image resampling primitives on NHWC tensors: resizing, projective transforms and random
flips (one op for TF's draw-compare-select, see the section).

Resizing is separable: along each spatial axis, every output row (or column) is a fixed
weighted sum of input rows, so a resize is two products with small matrices,
`rows @ image @ cols.T`, and its gradient is the same two products with the matrices
transposed. Bilinear resizing uses TF2's half-pixel centres (output pixel i samples input
coordinate (i + 0.5) * in / out - 0.5); nearest neighbour picks input pixel
floor((i + 0.5) * in / out), as `tf.image.resize` does.

A projective transform (TF's `ImageProjectiveTransformV3`, behind Keras's rotation, zoom
and translation layers) maps each output pixel (x, y) to the input point
((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with k = c0 x + c1 y + 1, brings that
point inside the image by the fill mode, and samples it (nearest or bilinear). The
forward computes, for the whole batch at once, up to four (input pixel, weight) pairs per
output pixel; the output is one weighted gather and the gradient with respect to the
image one scatter-add (`xp.bincount`) of the same pairs. Both are linear in the image and
adjoint to each other, so each is the other's gradient rule.
"""

import functools

from numpyflow.backend import xp
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, math_ops, random_ops
from numpyflow.ops._convert import tensor
from numpyflow.backend.quiet import quiet, restore, silence

# -- resizing ---------------------------------------------------------------------------------

RESIZE_METHODS = ("bilinear", "nearest")
_UNSUPPORTED_METHODS = ("area", "bicubic", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _cached(build):
    """`build(in_size, out_size)` computed once per size pair and returned read-only: an
    input pipeline resizes every element between the same sizes, and building the weights
    costs more than applying them to a small image."""
    @functools.lru_cache(maxsize=256)
    def cached(in_size, out_size):
        array = build(in_size, out_size)
        array.setflags(write=False)
        return array
    return functools.wraps(build)(cached)


@functools.lru_cache(maxsize=256)
def _weights(matrix, in_size, out_size, dtype, transposed):
    """`matrix(in_size, out_size)` (transposed if asked) as a read-only C-contiguous array
    of `dtype`: casting the float64 weights for every small image costs as much as one of
    its two products."""
    weights = matrix(in_size, out_size)
    weights = xp.ascontiguousarray((weights.T if transposed else weights).astype(dtype))
    weights.setflags(write=False)
    return weights


@_cached
def _bilinear_matrix(in_size, out_size):
    """(out_size, in_size) weights of TF2's half-pixel bilinear resampling along one axis."""
    source = (xp.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    floor = xp.floor(source)
    lerp = source - floor
    lower = xp.maximum(floor, 0).astype(xp.intp)
    upper = xp.minimum(xp.ceil(source), in_size - 1).astype(xp.intp)
    matrix = xp.zeros((out_size, in_size))
    rows = xp.arange(out_size)
    xp.add.at(matrix, (rows, lower), 1 - lerp)
    xp.add.at(matrix, (rows, upper), lerp)
    return matrix


@_cached
def _nearest_indices(in_size, out_size):
    """The input index each output index copies (TF2: half-pixel centres, rounding down)."""
    source = xp.floor((xp.arange(out_size) + 0.5) * (in_size / out_size)).astype(xp.intp)
    return xp.minimum(source, in_size - 1)


@_cached
def _nearest_matrix(in_size, out_size):
    matrix = xp.zeros((out_size, in_size))
    matrix[xp.arange(out_size), _nearest_indices(in_size, out_size)] = 1.
    return matrix


def _apply_separable(x, rows, cols_t):
    """`rows` (OH, H) applied along axis 1 and `cols_t.T` (OW, W) along axis 2 of NHWC `x`.

    The weights come in `x`'s dtype (`_weights`). The products report no floating-point
    errors (an image with inf or NaN gives inf or NaN, as TF's kernel does), switched off
    here rather than by the `quiet` wrapper, which costs a fifth of a small image's resize.
    """
    n, h, w, c = x.shape
    out_h, out_w = rows.shape[0], cols_t.shape[1]
    token = silence()
    try:
        if n == 1 and c == 1:  # One image of a pipeline: two plain 2-D products.
            return xp.dot(xp.dot(rows, x.reshape(h, w)), cols_t).reshape(1, out_h, out_w, 1)
        y = xp.matmul(rows, x.reshape(n, h, w * c))
        if c == 1:  # One product for all rows, not one per row (several times faster).
            return xp.dot(y.reshape(n * out_h, w), cols_t).reshape(n, out_h, out_w, c)
        y = xp.matmul(cols_t.T, y.reshape(n * out_h, w, c))
        return y.reshape(n, out_h, out_w, c)
    finally:
        restore(token)


def _resize_forward(matrix):
    def forward(x, size):
        return _apply_separable(x, _weights(matrix, x.shape[1], size[0], x.dtype, False),
                                _weights(matrix, x.shape[2], size[1], x.dtype, True))
    return forward


def _resize_grad_forward(matrix):
    # The adjoint of resizing (input_hw) -> dy's size: the transposed matrices.
    def forward(dy, input_hw):
        return _apply_separable(dy, _weights(matrix, input_hw[0], dy.shape[1], dy.dtype, True),
                                _weights(matrix, input_hw[1], dy.shape[2], dy.dtype, False))
    return forward


def _nearest_forward(x, size):
    rows = _nearest_indices(x.shape[1], size[0])
    cols = _nearest_indices(x.shape[2], size[1])
    return x[:, rows][:, :, cols]  # A gather: faster than products with 0/1 matrices.


ResizeBilinear = Primitive(
    "ResizeBilinear", _resize_forward(_bilinear_matrix),
    lambda node, dy: (ResizeBilinearGrad(dy, input_hw=node.inputs[0]._value.shape[1:3]),),
    infallible=True)
ResizeBilinearGrad = Primitive(
    "ResizeBilinearGrad", _resize_grad_forward(_bilinear_matrix),
    lambda node, ddx: (ResizeBilinear(ddx, size=node.inputs[0]._value.shape[1:3]),),
    infallible=True)
ResizeNearestNeighbor = Primitive(
    "ResizeNearestNeighbor", _nearest_forward,
    lambda node, dy: (ResizeNearestNeighborGrad(dy,
                                                input_hw=node.inputs[0]._value.shape[1:3]),),
    infallible=True)
ResizeNearestNeighborGrad = Primitive(
    "ResizeNearestNeighborGrad", _resize_grad_forward(_nearest_matrix),
    lambda node, ddx: (ResizeNearestNeighbor(ddx, size=node.inputs[0]._value.shape[1:3]),),
    infallible=True)

_RESIZE_PRIMITIVES = {"bilinear": ResizeBilinear, "nearest": ResizeNearestNeighbor}


def _size_pair(size, op_name):
    if isinstance(size, Tensor):
        size = size._value.tolist()
    try:
        pair = tuple(int(s) for s in size)
    except TypeError:
        pair = ()
    if len(pair) != 2 or min(pair) <= 0:
        raise ValueError(f"{op_name}: `size` must be 2 positive integers (new_height, "
                         f"new_width); received size={size!r}")
    return pair


def _with_batch(images, op_name):
    """(4-D images, whether a batch axis was added) for a 3-D image or 4-D batch."""
    rank = images._value.ndim
    if rank == 3:
        return array_ops.expand_dims(images, 0), True
    if rank != 4:
        raise ValueError(f"{op_name}: `images` must be 3-D (height, width, channels) or 4-D "
                         f"(batch, height, width, channels); received shape "
                         f"{list(images._value.shape)}")
    return images, False


def _without_batch(images, added):
    return array_ops.squeeze(images, 0) if added else images


def _float_images(images):
    """Integer images as float32 (TF computes in float32); float images keep their dtype."""
    images = tensor(images)
    if images._value.dtype.kind != "f":
        images = math_ops.cast(images, "float32")
    return images


def _aspect_preserving_size(in_hw, size):
    """The largest size within `size` with the input's aspect ratio (as TF rounds it)."""
    scale = min(size[0] / in_hw[0], size[1] / in_hw[1])
    return (max(int(round(in_hw[0] * scale)), 1), max(int(round(in_hw[1] * scale)), 1))


def resize(images, size, method="bilinear", preserve_aspect_ratio=False, antialias=False,
           name=None):
    """Resizes images to `size` (`tf.image.resize`).

    Args:
      images: 4-D (batch, height, width, channels) or 3-D (height, width, channels).
      size: (new_height, new_width).
      method: "bilinear" (default; TF2's half-pixel centres) or "nearest". Other TF
        methods ("area", "bicubic", ...) raise NotImplementedError.
      preserve_aspect_ratio: Resize to the largest size within `size` that keeps the
        input's aspect ratio.
      antialias: Only False is supported (True raises NotImplementedError).

    Returns:
      The resized images. Integer images give float32 (as TF); float images keep their
      dtype (TF gives float32 for every input dtype but the nearest method's).

    >>> import numpy as np
    >>> x = np.array([[0., 1.], [2., 3.]], np.float32).reshape(1, 2, 2, 1)
    >>> resize(x, (4, 4)).numpy()[0, :, :, 0]
    array([[0.  , 0.25, 0.75, 1.  ],
           [0.5 , 0.75, 1.25, 1.5 ],
           [1.5 , 1.75, 2.25, 2.5 ],
           [2.  , 2.25, 2.75, 3.  ]], dtype=float32)
    """
    method = str(getattr(method, "value", method)).lower()
    if method in _UNSUPPORTED_METHODS:
        raise NotImplementedError(f"tf.image.resize: method={method!r} is not implemented in "
                                  f"numpyflow; use one of {list(RESIZE_METHODS)}.")
    if method not in RESIZE_METHODS:
        raise ValueError(f"tf.image.resize: unknown method {method!r}; expected one of "
                         f"{list(RESIZE_METHODS + _UNSUPPORTED_METHODS)}.")
    if antialias:
        raise NotImplementedError("tf.image.resize: antialias=True is not implemented in "
                                  "numpyflow.")
    size = _size_pair(size, "tf.image.resize")
    images = tensor(images)
    if method == "bilinear":
        images = _float_images(images)
    images, added = _with_batch(images, "tf.image.resize")
    in_hw = images._value.shape[1:3]
    if min(in_hw) <= 0:
        raise ValueError(f"tf.image.resize: the input images are empty (height, width = "
                         f"{tuple(in_hw)}).")
    if preserve_aspect_ratio:
        size = _aspect_preserving_size(in_hw, size)
    if tuple(in_hw) == size:
        return _without_batch(images, added)
    return _without_batch(_RESIZE_PRIMITIVES[method](images, size=size), added)


# -- random flips ------------------------------------------------------------------------------
#
# TF draws a random flip as RandomUniform, Less and a select between the image and its
# reverse: four ops, of which the draw and the select cost most of a small image's whole
# augmentation. `RandomFlip` draws the same numbers from the same stream in one op, and keeps
# which images it flipped for its gradient: the same flips of the upstream gradient
# (`FlipWhere`, its own adjoint).

def _reversed(x, axis):
    key = [slice(None)] * x.ndim  # A view; cheaper than `xp.flip`'s axis normalizing.
    key[axis] = slice(None, None, -1)
    return x[tuple(key)]


def _flipped_where(x, flips, axis):
    """`x` reversed along `axis` where `flips` says: one bool for a 3-D image, one per image
    of a 4-D batch. Always a new array, as a select makes (a plan may write into it)."""
    if flips.ndim == 0:
        return (_reversed(x, axis) if flips else x).copy()
    return xp.where(flips.reshape((-1,) + (1,) * (x.ndim - 1)), _reversed(x, axis), x)


def _random_flip_forward(image, axis, seed):
    rng = random_ops.stateless_seed_stream(seed)
    # The draws of `tf.random.uniform` in float32 (the same values and stream state), and
    # TF's rules: one image flips when its draw is below 1/2, a batch's when above.
    if image.ndim == 3:
        flips = xp.asarray(rng.random(dtype=xp.float32) < 0.5)
    else:
        flips = rng.random((image.shape[0],), dtype=xp.float32) > 0.5
    return _flipped_where(image, flips, axis), flips


def _flip_where_grad(node, ddy):
    return (FlipWhere(ddy, flips=node.attrs["flips"], axis=node.attrs["axis"]),)


RandomFlip = Primitive(
    "RandomFlip", _random_flip_forward,
    lambda node, dy: (FlipWhere(dy, flips=node.saved, axis=node.attrs["axis"]),),
    saves=True, stateful=True, infallible=True)
FlipWhere = Primitive("FlipWhere", _flipped_where, _flip_where_grad, infallible=True)


def random_flip(image, axis, seed=None):
    """Reverses a 3-D image along `axis` with probability 1/2, or each image of a 4-D batch.

    Draws from `tf.random.uniform`'s stream for `seed` (TF's seeding rules).

    >>> import numpy as np
    >>> random_flip(np.zeros((2, 3, 1), np.float32), axis=-2, seed=1).shape
    TensorShape([2, 3, 1])
    """
    image = tensor(image)
    if image._value.ndim not in (3, 4):
        raise ValueError(f"random_flip: `image` must be 3-D or 4-D; received shape "
                         f"{list(image._value.shape)}")
    return RandomFlip(image, axis=int(axis), seed=None if seed is None else int(seed))


# -- projective transforms ---------------------------------------------------------------------

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _map_coordinates(coord, length, fill_mode):
    """Brings input coordinates inside [0, length - 1] by `fill_mode` (as TF's kernel).

    "constant" leaves them alone: samples outside the image read `fill_value` instead.
    """
    if fill_mode == "constant":
        return coord
    if fill_mode == "nearest" or length <= 1:
        return xp.clip(coord, 0, length - 1)
    if fill_mode == "reflect":
        # (d c b a | a b c d | d c b a): period 2 * length, mirrored about pixel edges.
        period = 2 * length
        coord = xp.mod(coord + 0.5, period) - 0.5
        coord = xp.where(coord > length - 0.5, period - 1 - coord, coord)
    else:  # wrap: (a b c d | a b c d | a b c d)
        coord = xp.mod(coord, length)
    return xp.clip(coord, 0, length - 1)


def _sampling(transforms, batch, in_hw, out_hw, interpolation, fill_mode, dtype):
    """Where each output pixel reads: (indices, weights, fill_weights).

    indices and weights have shape (K, N, OH, OW), K = 1 (nearest) or 4 (bilinear): flat
    input pixel numbers n * H * W + y * W + x and their weights (0 for pixels outside the
    image). fill_weights (N, OH, OW) is the share of `fill_value` in each output pixel.
    Coordinates are computed in float32 as TF's kernel does (float64 for float64 images).
    """
    in_h, in_w = in_hw
    ctype = xp.float64 if dtype == xp.float64 else xp.float32
    t = xp.broadcast_to(transforms.astype(ctype), (batch, 8))[:, :, None, None]
    y = xp.arange(out_hw[0], dtype=ctype)[:, None]
    x = xp.arange(out_hw[1], dtype=ctype)[None, :]
    degenerate = None
    if not (t[:, 1].any() or t[:, 3].any() or t[:, 6:].any()):
        # Translation and scaling (most augmentations): x depends on columns only and y on
        # rows only, so per-axis work runs on (N, 1, OW) and (N, OH, 1) arrays.
        in_x = t[:, 0] * x + t[:, 2]
        in_y = t[:, 4] * y + t[:, 5]
    else:
        in_x = t[:, 0] * x + t[:, 1] * y + t[:, 2]
        in_y = t[:, 3] * x + t[:, 4] * y + t[:, 5]
        if t[:, 6:].any():
            projection = t[:, 6] * x + t[:, 7] * y + 1
            degenerate = projection == 0
            projection[degenerate] = 1
            in_x = in_x / projection
            in_y = in_y / projection
    if not xp.isfinite(t).all():
        # NaN or infinite transforms read nowhere: those pixels are fill_value, and no index
        # is ever made from a non-finite coordinate (so the op cannot fail on values).
        in_x, in_y = xp.broadcast_arrays(in_x, in_y)
        bad = ~(xp.isfinite(in_x) & xp.isfinite(in_y))
        degenerate = bad if degenerate is None else degenerate | bad
        in_x, in_y = xp.where(bad, 0, in_x), xp.where(bad, 0, in_y)
    row_taps = _taps(_map_coordinates(in_y, in_h, fill_mode), in_h, interpolation, fill_mode)
    col_taps = _taps(_map_coordinates(in_x, in_w, fill_mode), in_w, interpolation, fill_mode)
    base = (xp.arange(batch) * (in_h * in_w))[:, None, None]
    full = (batch,) + tuple(out_hw)
    indices, weights = [], []
    for rows, row_weights in row_taps:
        offsets = base + rows * in_w
        for cols, col_weights in col_taps:
            indices.append(xp.broadcast_to(offsets + cols, full))
            weights.append(xp.broadcast_to(row_weights * col_weights, full))
    indices = xp.stack(indices)
    weights = xp.stack(weights)
    if degenerate is not None:
        weights = xp.where(degenerate, 0, weights)  # TF: the whole pixel is fill_value.
    fill_weights = 1 - weights.sum(axis=0)
    return indices, weights.astype(dtype, copy=False), fill_weights.astype(dtype, copy=False)


def _taps(coords, length, interpolation, fill_mode):
    """[(indices, weights)] of the input pixels read along one axis.

    With fill_mode="constant", pixels outside [0, length) get weight 0 (their share goes to
    fill_value); the other modes brought `coords` inside [0, length - 1] already, so only
    the bilinear upper neighbour of the last pixel falls outside, and its weight is 0.
    """
    if interpolation == "nearest":
        # std::round: halves away from zero (xp.round would round them to even).
        taps = [(xp.sign(coords) * xp.floor(xp.abs(coords) + 0.5), xp.ones_like(coords))]
    else:
        lower = xp.floor(coords)
        upper_weight = coords - lower
        taps = [(lower, 1 - upper_weight), (lower + 1, upper_weight)]
    result = []
    for position, weight in taps:
        if fill_mode == "constant":
            weight = xp.where((position >= 0) & (position <= length - 1), weight, 0)
        result.append((xp.clip(position, 0, length - 1).astype(xp.intp), weight))
    return result


def _gather_weighted(flat_images, indices, weights, fill_weights, fill_value):
    out = weights[0][..., None] * flat_images[indices[0]]
    for k in range(1, len(indices)):
        out += weights[k][..., None] * flat_images[indices[k]]
    if fill_value != 0:
        out += fill_weights[..., None] * flat_images.dtype.type(fill_value)
    return out


def _transform_forward(images, transforms, output_shape, interpolation, fill_mode,
                       fill_value):
    n, h, w, c = images.shape
    sampling = _sampling(transforms, n, (h, w), output_shape, interpolation, fill_mode,
                         images.dtype)
    out = _gather_weighted(images.reshape(-1, c), *sampling, fill_value)
    return out, sampling


def _transform_grad_forward(dy, transforms, input_shape, interpolation, fill_mode,
                            indices=None, weights=None):
    """The adjoint of the transform (fill_value aside): dy scattered back to the input."""
    n, h, w, c = input_shape
    if indices is None:
        indices, weights, _ = _sampling(transforms, n, (h, w), dy.shape[1:3], interpolation,
                                        fill_mode, dy.dtype)
    channel = xp.arange(c)
    targets = (indices[..., None] * c + channel).ravel()
    contributions = (weights[..., None] * dy[None]).ravel()
    flat = xp.bincount(targets, weights=contributions, minlength=n * h * w * c)
    return flat.astype(dy.dtype, copy=False).reshape(input_shape)


def _transform_grad(node, dy):
    images, transforms = node.inputs
    attrs = node.attrs
    indices, weights, _ = node.saved
    return (ImageProjectiveTransformV3Grad(
        dy, transforms, input_shape=images._value.shape, interpolation=attrs["interpolation"],
        fill_mode=attrs["fill_mode"], indices=indices, weights=weights), None)


def _transform_grad_grad(node, ddx):
    dy, transforms = node.inputs
    attrs = node.attrs
    return (ImageProjectiveTransformV3(ddx, transforms, output_shape=dy._value.shape[1:3],
                                       interpolation=attrs["interpolation"],
                                       fill_mode=attrs["fill_mode"], fill_value=0.), None)


# The gradient flows to the images only: the sampling positions are piecewise smooth in
# the transform, but TF gives no gradient for it either.
ImageProjectiveTransformV3 = Primitive("ImageProjectiveTransformV3", quiet(_transform_forward),
                                       _transform_grad, saves=True, infallible=True)
ImageProjectiveTransformV3Grad = Primitive("ImageProjectiveTransformV3Grad",
                                           quiet(_transform_grad_forward), _transform_grad_grad,
                                           infallible=True)


def _angles_forward(angles, image_height, image_width):
    cos, sin = xp.cos(angles), xp.sin(angles)
    # Rotation about the image centre ((w - 1) / 2, (h - 1) / 2), output -> input.
    x_offset = ((image_width - 1) - (cos * (image_width - 1) - sin * (image_height - 1))) / 2
    y_offset = ((image_height - 1) - (sin * (image_width - 1) + cos * (image_height - 1))) / 2
    zeros = xp.zeros_like(angles)
    return xp.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)


# No gradient: the angles are random draws, never trained.
AnglesToProjectiveTransforms = Primitive("AnglesToProjectiveTransforms", quiet(_angles_forward),
                                         infallible=True)


def angles_to_projective_transforms(angles, image_height, image_width, name=None):
    """Transforms (N, 8) rotating images by `angles` (radians, counter-clockwise) about
    their centre, for `affine_transform`.

    >>> angles_to_projective_transforms([0.], 3, 3).numpy()
    array([[ 1., -0.,  0.,  0.,  1.,  0.,  0.,  0.]], dtype=float32)
    """
    angles = tensor(angles)
    if angles._value.dtype.kind != "f":
        angles = math_ops.cast(angles, "float32")
    if angles._value.ndim == 0:
        angles = array_ops.reshape(angles, (1,))
    if angles._value.ndim != 1:
        raise ValueError(f"angles_to_projective_transforms: `angles` must be a scalar or a "
                         f"vector; received shape {list(angles._value.shape)}")
    return AnglesToProjectiveTransforms(angles, image_height=float(image_height),
                                        image_width=float(image_width))


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="constant",
                     fill_value=0., output_shape=None, name=None):
    """Applies projective transforms to images (TF's `ImageProjectiveTransformV3`).

    Each transform [a0, a1, a2, b0, b1, b2, c0, c1] maps an output pixel (x, y) to the input
    point ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1 (pixel
    indices, x along the width); that point is sampled from the input.

    Args:
      images: 4-D (batch, height, width, channels) or 3-D float images.
      transforms: (8,), (1, 8) (one for all images) or (batch, 8).
      interpolation: "bilinear" or "nearest".
      fill_mode: How points outside the input are read: "constant" (`fill_value`),
        "reflect" (d c b a | a b c d | d c b a), "wrap" (a b c d | a b c d) or "nearest"
        (a a | a b c d | d d).
      fill_value: The value read outside the input with fill_mode="constant".
      output_shape: (height, width) of the output; the input's by default.

    The gradient flows to `images` (not to `transforms`, as in TF).

    >>> import numpy as np
    >>> x = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1)
    >>> shift_right = [1., 0., -1., 0., 1., 0., 0., 0.]
    >>> affine_transform(x, shift_right).numpy().ravel()
    array([0., 0., 1., 2.], dtype=float32)
    """
    if interpolation not in INTERPOLATIONS:
        raise NotImplementedError(f"affine_transform: unknown interpolation={interpolation!r};"
                                  f" expected one of {list(INTERPOLATIONS)}.")
    if fill_mode not in FILL_MODES:
        raise NotImplementedError(f"affine_transform: unknown fill_mode={fill_mode!r}; "
                                  f"expected one of {list(FILL_MODES)}.")
    images, added = _with_batch(_float_images(images), "affine_transform")
    transforms = tensor(transforms)
    if transforms._value.dtype.kind != "f":
        transforms = math_ops.cast(transforms, "float32")
    if transforms._value.ndim == 1:
        transforms = array_ops.reshape(transforms, (1, -1))
    batch = images._value.shape[0]
    if transforms._value.ndim != 2 or transforms._value.shape[1] != 8 or \
            transforms._value.shape[0] not in (1, batch):
        raise ValueError(f"affine_transform: `transforms` must have shape (8,), (1, 8) or "
                         f"(batch, 8) = (.., {batch}, 8); received shape "
                         f"{list(transforms._value.shape)}")
    if output_shape is None:
        output_shape = images._value.shape[1:3]
    output_shape = _size_pair(output_shape, "affine_transform")
    out = ImageProjectiveTransformV3(images, transforms, output_shape=output_shape,
                                     interpolation=interpolation, fill_mode=fill_mode,
                                     fill_value=float(fill_value))
    return _without_batch(out, added)

