"""`RandomCrop`: a random window of the target size while training, the centre otherwise."""

import numpyflow as tf
from numpyflow.keras.layers.preprocessing.image_layer import (
    RandomImageLayer, positive_size, sized_output_shape, smart_resize)


class RandomCrop(RandomImageLayer):
    """Crops images to `height` x `width`.

    While training, one random window is cut from all images of the batch. At inference,
    and while training on images smaller than the target, the largest centred window of
    the target's aspect ratio is cut and resized to the target size. (Keras 3 intends the
    same; some of its releases return inference inputs uncropped, keras-team/keras#21868.)

    Args:
      height, width: The output size.
      seed: Optional int for reproducible crops.
      data_format: Only "channels_last".

    >>> import numpyflow as tf
    >>> tf.keras.layers.RandomCrop(3, 3, seed=1)(tf.zeros((2, 5, 5, 1)), training=True).shape
    TensorShape([2, 3, 3, 1])
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = positive_size(self, height, "height")
        self.width = positive_size(self, width, "width")

    def transform(self, images, training):
        height, width = images.shape[1], images.shape[2]
        if not (training and height >= self.height and width >= self.width):
            return smart_resize(images, self.height, self.width)
        # Whole-pixel offsets, drawn as ops so that compiled plans draw fresh ones; the crop
        # is a translation sampled at the offsets, which carries the gradient back.
        top = self._offset(height - self.height)
        left = self._offset(width - self.width)
        ones = tf.ones((1, 1), dtype=top.dtype)
        zeros = tf.zeros((1, 1), dtype=top.dtype)
        transform = tf.concat([ones, zeros, left, zeros, ones, top, zeros, zeros], axis=1)
        return tf.image.affine_transform(images, transform, interpolation="nearest",
                                         output_shape=(self.height, self.width))

    def _offset(self, room):
        offset = tf.floor(self.uniform((1, 1), 0., room + 1.))
        return tf.minimum(offset, float(room))  # A float32 draw can round up to room + 1.

    def compute_output_shape(self, input_shape):
        return sized_output_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config
