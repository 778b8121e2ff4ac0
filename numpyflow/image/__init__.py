"""`tf.image`: resizing, flipping, cropping and padding images, and colour adjustments.

Images are 4-D (batch, height, width, channels) or 3-D (height, width, channels) tensors.
`affine_transform` and `angles_to_projective_transforms` are numpyflow's counterparts of
`keras.ops.image.affine_transform` (TF's `ImageProjectiveTransformV3`) and TF Addons'
rotation helper, used by the Keras augmentation layers.
"""

from numpyflow.image.color import adjust_brightness, adjust_contrast  # noqa: F401
from numpyflow.image.geometry import (  # noqa: F401
    central_crop, crop_to_bounding_box, flip_left_right, flip_up_down, pad_to_bounding_box,
    resize_with_crop_or_pad)
from numpyflow.ops.image_ops import (  # noqa: F401
    affine_transform, angles_to_projective_transforms, resize)


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
                 "resize_with_crop_or_pad"):
        namespace[name] = add_dispatch_support(namespace[name], "image." + name)


_dispatch_all(globals())
