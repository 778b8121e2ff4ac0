"""`tf.image`: resizing, flipping, rotating, cropping and padding images, colour adjustments
and colour-space conversions, random augmentations (`random_*`, `stateless_random_*`),
box detection helpers (non-max suppression, `crop_and_resize`, `draw_bounding_boxes`),
quality measures (`ssim`, `psnr`, `total_variation`, `sobel_edges`), `extract_patches`,
JPEG quality, and tf.image's names for the tf.io codecs.

Images are 4-D (batch, height, width, channels) or 3-D (height, width, channels) tensors.
`affine_transform` and `angles_to_projective_transforms` are numpyflow's counterparts of
`keras.ops.image.affine_transform` (TF's `ImageProjectiveTransformV3`) and TF Addons'
rotation helper, used by the Keras augmentation layers.
"""

from numpyflow.image.color import (  # noqa: F401
    adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation,
    per_image_standardization)
from numpyflow.image.conversions import (  # noqa: F401
    convert_image_dtype, grayscale_to_rgb, hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv)
from numpyflow.image.geometry import (  # noqa: F401
    central_crop, crop_to_bounding_box, flip_left_right, flip_up_down, pad_to_bounding_box,
    resize_with_crop_or_pad, resize_with_pad, rot90)
from numpyflow.image.random_adjustments import (  # noqa: F401
    random_brightness, random_contrast, random_crop, random_flip_left_right,
    random_flip_up_down, random_hue, random_saturation, stateless_random_brightness,
    stateless_random_contrast, stateless_random_crop, stateless_random_flip_left_right,
    stateless_random_flip_up_down, stateless_random_hue, stateless_random_saturation)
from numpyflow.image.resampling import resize  # noqa: F401
from numpyflow.ops.image_ops import (  # noqa: F401
    affine_transform, angles_to_projective_transforms)
# tf.image's names for the tf.io codecs (TF exports them in both places).
from numpyflow.io.image_io import (  # noqa: F401
    decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png, encode_jpeg, encode_png,
    is_jpeg)


class ResizeMethod:
    """The names `resize` accepts for `method` (TF's enum, as strings)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


def _dispatch_all(namespace):
    # As tf.math and tf.nn: calls on Keras's symbolic inputs build functional models.
    from numpyflow.framework.dispatch import add_dispatch_support
    for name in ("adjust_brightness", "adjust_contrast", "affine_transform",
                 "angles_to_projective_transforms", "central_crop", "crop_to_bounding_box",
                 "flip_left_right", "flip_up_down", "pad_to_bounding_box", "resize",
                 "resize_with_crop_or_pad", "adjust_gamma", "adjust_hue", "adjust_saturation",
                 "convert_image_dtype", "grayscale_to_rgb", "hsv_to_rgb",
                 "per_image_standardization", "resize_with_pad", "rgb_to_grayscale",
                 "rgb_to_hsv", "rot90"):
        namespace[name] = add_dispatch_support(namespace[name], "image." + name)


_dispatch_all(globals())



from numpyflow.framework.lazy import lazy_attributes as _lazy_attributes  # noqa: E402
from numpyflow.framework.lazy import names_from as _names_from  # noqa: E402

# Detection, quality measures, patches, YUV/YIQ and JPEG quality load on first use
# (`import numpyflow` stays small). The differentiable ones build layers on Keras's inputs.
__getattr__ = _lazy_attributes(globals(), {
    **_names_from("numpyflow.image.detection", "combined_non_max_suppression "
                  "draw_bounding_boxes non_max_suppression non_max_suppression_overlaps "
                  "non_max_suppression_padded non_max_suppression_with_scores "
                  "sample_distorted_bounding_box stateless_sample_distorted_bounding_box"),
    **_names_from("numpyflow.image.jpeg", "adjust_jpeg_quality decode_and_crop_jpeg "
                  "extract_jpeg_shape random_jpeg_quality stateless_random_jpeg_quality"),
    **_names_from("numpyflow.image.patches", "crop_and_resize extract_patches", True),
    **_names_from("numpyflow.image.quality", "image_gradients psnr sobel_edges ssim "
                  "ssim_multiscale total_variation", True),
    **_names_from("numpyflow.image.yuv", "rgb_to_yiq rgb_to_yuv transpose yiq_to_rgb "
                  "yuv_to_rgb", True),
}, dispatch_prefix="image.")
