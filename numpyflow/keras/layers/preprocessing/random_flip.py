"""`RandomFlip`: flips images left-right and/or up-down at random while training."""

import numpyflow as tf
from numpyflow.keras.layers.preprocessing.image_layer import RandomImageLayer, describe

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"
_MODES = (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)


class RandomFlip(RandomImageLayer):
    """Flips each image with probability 1/2, independently per image and per direction.

    Only with `training=True`; otherwise (inference) the images pass unchanged.

    Args:
      mode: "horizontal" (left-right), "vertical" (up-down) or "horizontal_and_vertical".
      seed: Optional int for reproducible flips (with `tf.random.set_seed`).
      data_format: Only "channels_last".

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RandomFlip("horizontal", seed=1)
    >>> layer(tf.ones((2, 4, 4, 3)), training=True).shape
    TensorShape([2, 4, 4, 3])
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in _MODES:
            raise ValueError(f"{describe(self)}: invalid `mode` argument. Expected one of "
                             f"{list(_MODES)}. Received: mode={mode!r}")
        self.mode = mode

    def transform(self, images, training):
        if not training:
            return images
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            images = self._flip_some(images, tf.image.flip_left_right(images))
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            images = self._flip_some(images, tf.image.flip_up_down(images))
        return images

    def _flip_some(self, images, flipped):
        chosen = self.uniform((images.shape[0], 1, 1, 1), 0., 1.) < 0.5
        return tf.where(chosen, flipped, images)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
