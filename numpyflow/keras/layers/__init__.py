"""`keras.layers`."""

from numpyflow.keras.layers.base_layer import Layer  # noqa: F401
from numpyflow.keras.layers.input_layer import Input, InputLayer  # noqa: F401
from numpyflow.keras.layers.input_spec import InputSpec  # noqa: F401
from numpyflow.keras.layers.core import (  # noqa: F401
    Activation, Dense, Dropout, Flatten, Reshape)
from numpyflow.keras.layers.conv import (  # noqa: F401
    Conv1D, Conv2D, Convolution1D, Convolution2D)
from numpyflow.keras.layers.conv_transpose import (  # noqa: F401
    Conv1DTranspose, Conv2DTranspose, Convolution1DTranspose, Convolution2DTranspose)
from numpyflow.keras.layers.depthwise_conv import (  # noqa: F401
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, SeparableConvolution1D,
    SeparableConvolution2D)
from numpyflow.keras.layers.pooling import (  # noqa: F401
    AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D,
    GlobalMaxPool2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool1D, MaxPool2D,
    MaxPooling1D, MaxPooling2D)
from numpyflow.keras.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax  # noqa: F401
from numpyflow.keras.layers.normalization import (  # noqa: F401
    BatchNormalization, GroupNormalization, LayerNormalization)
from numpyflow.keras.layers.regularization import (  # noqa: F401
    ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
    SpatialDropout2D, SpatialDropout3D)
from numpyflow.keras.layers.reshaping import (  # noqa: F401
    Cropping1D, Cropping2D, Permute, RepeatVector, ZeroPadding1D, ZeroPadding2D)
from numpyflow.keras.layers.merging import (  # noqa: F401
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract)
from numpyflow.keras.layers.lambda_layer import Identity, Lambda  # noqa: F401
from numpyflow.keras.layers.einsum_dense import EinsumDense  # noqa: F401
from numpyflow.keras.layers.attention import (  # noqa: F401
    AdditiveAttention, Attention, MultiHeadAttention)
from numpyflow.keras.layers.embedding import Embedding  # noqa: F401
from numpyflow.keras.layers.masking import Masking  # noqa: F401
from numpyflow.keras.layers.rnn import (  # noqa: F401
    GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells)
from numpyflow.keras.layers.rnn import (  # noqa: F401
    Bidirectional, ConvLSTM1D, ConvLSTM2D, TimeDistributed)
from numpyflow.keras.layers.dense_features import DenseFeatures  # noqa: F401
from numpyflow.keras.layers.serialization import deserialize, get, serialize  # noqa: F401
from numpyflow.keras.layers.upsampling import UpSampling2D  # noqa: F401
from numpyflow.keras.layers.preprocessing import (  # noqa: F401
    CenterCrop, Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
    RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing)
from numpyflow.keras.layers.preprocessing import (  # noqa: F401
    CategoryEncoding, Discretization, Hashing, IntegerLookup, StringLookup, TextVectorization)
from numpyflow.keras.graph.op_layer import TFOpLambda  # noqa: F401,E402 - ops on KerasTensors
