"""`CenterCrop`: the central window of images, resized when the image is smaller."""

from numpyflow.keras.layers.preprocessing.image_layer import (
    ImageLayer, positive_size, sized_output_shape, smart_resize)


class CenterCrop(ImageLayer):
    """Crops the central `height` x `width` window of images.

    An image smaller than the target along either axis is instead cropped to the target's
    aspect ratio (centred) and resized to the target size, as Keras does.

    Args:
      height, width: The output size.
      data_format: Only "channels_last".

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(16.), (4, 4, 1))
    >>> tf.keras.layers.CenterCrop(2, 2)(x).numpy()[:, :, 0]
    array([[ 5.,  6.],
           [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = positive_size(self, height, "height")
        self.width = positive_size(self, width, "width")

    def transform(self, images, training):
        height_diff = images.shape[1] - self.height
        width_diff = images.shape[2] - self.width
        if height_diff >= 0 and width_diff >= 0:
            top, left = int(height_diff / 2), int(width_diff / 2)
            return images[:, top:top + self.height, left:left + self.width, :]
        return smart_resize(images, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return sized_output_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config
