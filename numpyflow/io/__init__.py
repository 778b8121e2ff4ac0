"""`tf.io`: reading and writing files, decoding and encoding images.

    >>> import numpy as np, numpyflow as tf
    >>> png = tf.io.encode_png(np.zeros((2, 2, 3), np.uint8))
    >>> tf.io.decode_image(png).shape
    TensorShape([2, 2, 3])
"""

from numpyflow.io.image_io import (  # noqa: F401
    decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png, encode_jpeg, encode_png,
    is_jpeg, read_file, write_file)
from numpyflow.io.parsing import (  # noqa: F401
    FixedLenFeature, VarLenFeature, parse_example, parse_single_example, parse_tensor,
    serialize_tensor)
from numpyflow.io.tfrecord import (  # noqa: F401
    TFRecordCompressionType, TFRecordOptions, TFRecordWriter)
