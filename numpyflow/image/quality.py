"""Image differences and quality measures: `image_gradients`, `sobel_edges`,
`total_variation`, `psnr`, `ssim` and `ssim_multiscale`.

All are compositions of differentiable ops (slices, depthwise convolutions, average
pooling), so float images get gradients, e.g. to use SSIM or total variation as a loss.
As TF, `psnr` and the SSIMs compare images as float32 in [0, 1]-style units after
`convert_image_dtype`, so uint8 images and `max_val=255` give the same score as floats.
"""

import numpy as np

import numpyflow as tf
from numpyflow.image.conversions import convert_image_dtype


def _rank4(image, op_name, what="image"):
    image = tf.convert_to_tensor(image)
    if image.shape.rank != 4:
        raise ValueError(f"tf.image.{op_name}: `{what}` must be 4-D (batch, height, width, "
                         f"channels); received shape {image.shape}")
    return image


def image_gradients(image):
    """Forward differences (dy, dx) of a 4-D image, each the image's shape.

    The last row of dy and the last column of dx are zero, as in TF.

    >>> import numpyflow as tf
    >>> dy, dx = image_gradients(tf.reshape(tf.range(6.), (1, 2, 3, 1)))
    >>> dy.numpy()[0, ..., 0], dx.numpy()[0, ..., 0]
    (array([[3., 3., 3.],
           [0., 0., 0.]], dtype=float32), array([[1., 1., 0.],
           [1., 1., 0.]], dtype=float32))
    """
    image = _rank4(image, "image_gradients")
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = tf.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]])
    dx = tf.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]])
    return dy, dx


def sobel_edges(image):
    """Sobel responses of a 4-D float image: shape (batch, height, width, channels, 2),
    the vertical (dy) response first, then the horizontal (dx) one.

    The image is padded by reflection (as TF), so the output keeps the input's size.

    >>> import numpyflow as tf
    >>> sobel_edges(tf.zeros((1, 4, 5, 3))).shape
    TensorShape([1, 4, 5, 3, 2])
    """
    image = _rank4(image, "sobel_edges")
    if not image.dtype.is_floating:
        raise TypeError(f"tf.image.sobel_edges: `image` must be a floating-point tensor; "
                        f"received dtype {image.dtype.name}")
    dy_kernel = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    kernels = np.stack([dy_kernel, dy_kernel.T], axis=-1)                    # (3, 3, 2)
    channels = image.shape[-1]
    # Depthwise with multiplier 2: output channel c * 2 + k is kernel k on channel c, so a
    # reshape splits it into (channels, 2).
    filters = np.tile(kernels[:, :, None, :], (1, 1, channels, 1))
    padded = tf.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    edges = tf.nn.depthwise_conv2d(padded, tf.constant(filters, image.dtype), [1, 1, 1, 1],
                                   "VALID")
    shape = tf.shape(image)
    return tf.reshape(edges, tf.concat([shape, [2]], axis=0))


def total_variation(images, name=None):
    """Sum of absolute differences between neighbouring pixels: a scalar for a 3-D image,
    one value per image for a 4-D batch.

    >>> import numpyflow as tf
    >>> float(total_variation(tf.constant([[[0.], [1.]], [[3.], [1.]]])))
    6.0
    """
    images = tf.convert_to_tensor(images)
    rank = images.shape.rank
    if rank == 3:
        axes = None
    elif rank == 4:
        axes = [1, 2, 3]
    else:
        raise ValueError(f"tf.image.total_variation: `images` must be 3-D or 4-D; received "
                         f"shape {images.shape}")
    down = images[..., 1:, :, :] - images[..., :-1, :, :]
    right = images[..., :, 1:, :] - images[..., :, :-1, :]
    return (tf.reduce_sum(tf.abs(down), axis=axes) + tf.reduce_sum(tf.abs(right), axis=axes))


def _as_float32(a, b, max_val, op_name):
    """Both images and max_val in float32 units, as TF: max_val is first cast to the images'
    dtype, then all three are rescaled by `convert_image_dtype` (uint8 255 -> 1.0)."""
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    if a.dtype != b.dtype:
        raise TypeError(f"tf.image.{op_name}: both images must have the same dtype; received "
                        f"{a.dtype.name} and {b.dtype.name}")
    if (a.shape.rank is not None and b.shape.rank is not None
            and not a.shape[-3:].is_compatible_with(b.shape[-3:])):
        raise ValueError(f"tf.image.{op_name}: the images' last three dimensions (height, "
                         f"width, channels) must match; received shapes {a.shape} and "
                         f"{b.shape}")
    for image, which in ((a, "img1"), (b, "img2")):
        if image.shape.rank is not None and image.shape.rank < 3:
            raise ValueError(f"tf.image.{op_name}: `{which}` must have rank >= 3 (height, "
                             f"width, channels); received shape {image.shape}")
    max_val = convert_image_dtype(tf.cast(max_val, a.dtype), tf.float32)
    return (convert_image_dtype(a, tf.float32), convert_image_dtype(b, tf.float32), max_val)


def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio in dB between `a` and `b` (float32, one value per image).

    Args:
      a, b: Images of the same shape and dtype, (..., height, width, channels).
      max_val: The dynamic range (1.0 for floats in [0, 1], 255 for uint8).

    >>> import numpyflow as tf
    >>> float(psnr(tf.zeros((2, 2, 1)), tf.fill((2, 2, 1), 0.1), 1.0))  # doctest: +ELLIPSIS
    20.0...
    """
    a, b, max_val = _as_float32(a, b, max_val, "psnr")
    mse = tf.reduce_mean(tf.math.squared_difference(a, b), [-3, -2, -1])
    return (20. * tf.math.log(max_val) / np.float32(np.log(10.))
            - np.float32(10. / np.log(10.)) * tf.math.log(mse))


def _gaussian_window(size, sigma):
    """(size,) normalized 1-D Gaussian. TF builds its 2-D window as a softmax of
    -(dy^2 + dx^2) / 2s^2, which is exactly the outer product of this window with itself, so
    the local means can be two 1-D passes (2 * size taps per pixel instead of size^2)."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.
    g = np.exp(-0.5 * np.square(coords) / np.square(float(sigma)))
    return g / g.sum()


def _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2,
                      return_index_map=False):
    """(ssim, contrast-structure) per channel: averaged over height and width unless
    `return_index_map`."""
    height, width, channels = img1.shape[-3:]
    if (height is not None and height < filter_size) or (width is not None
                                                         and width < filter_size):
        raise tf.errors.InvalidArgumentError(
            None, None, f"tf.image.ssim: the images ({height}x{width}) must be at least "
            f"filter_size={filter_size} in height and width")
    # The four maps whose local means SSIM needs, blurred together: one pair of depthwise
    # passes over 4 * channels channels instead of four 2-D convolutions.
    window = _gaussian_window(filter_size, filter_sigma)
    column = tf.constant(np.tile(window[:, None, None, None], (1, 1, 4 * channels, 1)),
                         tf.float32)
    row = tf.constant(np.tile(window[None, :, None, None], (1, 1, 4 * channels, 1)),
                      tf.float32)
    maps = tf.concat([img1, img2, img1 * img2, tf.square(img1) + tf.square(img2)], axis=-1)
    shape = tf.shape(maps)
    # Leading dimensions are folded into one batch for the 4-D convolution.
    blurred = tf.reshape(maps, tf.concat([[-1], shape[-3:]], 0))
    blurred = tf.nn.depthwise_conv2d(blurred, column, [1, 1, 1, 1], "VALID")
    blurred = tf.nn.depthwise_conv2d(blurred, row, [1, 1, 1, 1], "VALID")
    blurred = tf.reshape(blurred, tf.concat([shape[:-3], tf.shape(blurred)[1:]], 0))
    mean1, mean2, mean12, mean_squares = tf.split(blurred, 4, axis=-1)

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    num0 = mean1 * mean2 * 2.
    den0 = tf.square(mean1) + tf.square(mean2)
    luminance = (num0 + c1) / (den0 + c1)
    cs = (mean12 * 2. - num0 + c2) / (mean_squares - den0 + c2)
    if return_index_map:
        return luminance * cs, cs
    return tf.reduce_mean(luminance * cs, [-3, -2]), tf.reduce_mean(cs, [-3, -2])


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map=False):
    """Structural similarity between two images (one float32 value per image, averaged over
    channels), with a Gaussian window as in Wang et al. 2004.

    Args:
      img1, img2: Images of the same dtype, (..., height, width, channels), at least
        `filter_size` high and wide.
      max_val: The dynamic range (1.0 for floats in [0, 1], 255 for uint8).
      return_index_map: Return the per-pixel SSIM map instead of its mean.

    >>> import numpyflow as tf
    >>> x = tf.random.stateless_uniform((1, 16, 16, 3), seed=(1, 2))
    >>> round(float(ssim(x, x, 1.0)[0]), 4)
    1.0
    """
    img1, img2, max_val = _as_float32(img1, img2, max_val, "ssim")
    value, _ = _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2,
                                 return_index_map)
    return tf.reduce_mean(value, [-1])


# Wang, Simoncelli and Bovik 2003: the weights of the five scales.
_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size=11,
                    filter_sigma=1.5, k1=0.01, k2=0.03):
    """Multi-scale SSIM: SSIM's contrast-structure term at `len(power_factors)` scales (each
    half the previous by 2x2 average pooling), the full SSIM at the coarsest, combined as
    a weighted geometric mean. The coarsest scale must still be `filter_size` wide.

    >>> import numpyflow as tf
    >>> x = tf.random.stateless_uniform((1, 64, 64, 1), seed=(1, 2))
    >>> round(float(ssim_multiscale(x, x, 1.0, power_factors=(0.5, 0.5))[0]), 4)
    1.0
    """
    img1, img2, max_val = _as_float32(img1, img2, max_val, "ssim_multiscale")
    heads = tf.shape(img1)[:-3]
    images = [img1, img2]
    contrasts = []
    for scale in range(len(power_factors)):
        if scale > 0:
            tail = images[0].shape[-3:]
            flat = [tf.reshape(x, [-1] + list(tail)) for x in images]
            # Odd sizes are padded by repeating the last row/column, as TF.
            pad_h, pad_w = tail[0] % 2, tail[1] % 2
            if pad_h or pad_w:
                flat = [tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="SYMMETRIC")
                        for x in flat]
            pooled = [tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") for x in flat]
            images = [tf.reshape(x, tf.concat([heads, tf.shape(x)[1:]], 0)) for x in pooled]
        value, cs = _ssim_per_channel(images[0], images[1], max_val, filter_size,
                                      filter_sigma, k1, k2)
        contrasts.append(tf.nn.relu(cs))
    contrasts.pop()  # The coarsest scale uses the full SSIM instead of its cs term.
    terms = tf.stack(contrasts + [tf.nn.relu(value)], axis=-1)
    combined = tf.reduce_prod(tf.pow(terms, tf.constant(power_factors, tf.float32)), [-1])
    return tf.reduce_mean(combined, [-1])
