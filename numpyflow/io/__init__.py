"""`tf.io`: reading and writing files, decoding and encoding images.

    >>> import numpy as np, numpyflow as tf
    >>> png = tf.io.encode_png(np.zeros((2, 2, 3), np.uint8))
    >>> tf.io.decode_image(png).shape
    TensorShape([2, 2, 3])
"""

from numpyflow.io.image_io import (  # noqa: F401
    decode_and_crop_jpeg, decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png,
    encode_jpeg, encode_png, extract_jpeg_shape, is_jpeg, read_file, write_file)
from numpyflow.io.parsing import (  # noqa: F401
    FixedLenFeature, FixedLenSequenceFeature, SparseFeature, VarLenFeature, parse_example,
    parse_single_example)
from numpyflow.io.sequence_parsing import (  # noqa: F401
    parse_sequence_example, parse_single_sequence_example)
from numpyflow.io.tensor_proto import parse_tensor, serialize_tensor  # noqa: F401
from numpyflow.io.tfrecord import (  # noqa: F401
    TFRecordCompressionType, TFRecordOptions, TFRecordWriter)
