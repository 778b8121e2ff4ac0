"""`keras.layers`."""

from numpyflow.keras.layers.base_layer import Layer  # noqa: F401
from numpyflow.keras.layers.input_layer import Input, InputLayer  # noqa: F401
from numpyflow.keras.layers.input_spec import InputSpec  # noqa: F401
from numpyflow.keras.layers.core import (  # noqa: F401
    Activation, Dense, Dropout, Flatten, Reshape)
from numpyflow.keras.layers.conv import Conv2D, Convolution2D  # noqa: F401
from numpyflow.keras.layers.pooling import (  # noqa: F401
    AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
    GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from numpyflow.keras.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax  # noqa: F401
