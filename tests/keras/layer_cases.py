"""The standard check of every public Keras layer: one `LayerCase` line per configuration.

Each case is run through `run_layer_test` (shapes, weight counts, config round trip, one
training step) by `tests/keras/test_layer_registry.py`, which also fails when a layer class
exported by `numpyflow.keras.layers` has no case here — as `tests/ops/test_ops.py` does for
primitives without an op case. A new layer gets its line (or lines, one per important mode)
in the section of its module:

    LayerCase(Dense, {"units": 3}, (2, 4), (2, 3), 2),

The columns are `run_layer_test`'s: the class, its constructor arguments, the input shape (a
list of shapes for layers called on a list of tensors), the expected output shape, the
numbers of trainable and non-trainable weights; any further keyword is passed on
(`call_kwargs={"training": True}` for training-mode behaviour, `input_dtype`, ...), except
`label`, which names the case in test ids when the arguments alone would not.
"""

from numpyflow.keras.layers import (
    ELU, Activation, ActivityRegularization, Add, AlphaDropout, Average, AveragePooling1D,
    AveragePooling2D, BatchNormalization, CenterCrop, Concatenate, Conv1D, Conv1DTranspose,
    Conv2D, Conv2DTranspose, Cropping1D, Cropping2D, Dense, DepthwiseConv1D, DepthwiseConv2D,
    Dot, Dropout, Flatten, GaussianDropout, GaussianNoise, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, GroupNormalization,
    Identity, InputLayer, Lambda, LayerNormalization, LeakyReLU, Maximum, MaxPooling1D,
    MaxPooling2D, Minimum, Multiply, Normalization, Permute, RandomBrightness, RandomContrast,
    RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, ReLU, RepeatVector,
    Rescaling, Reshape, Resizing, SeparableConv1D, SeparableConv2D, Softmax, SpatialDropout1D,
    SpatialDropout2D, SpatialDropout3D, Subtract, UpSampling2D, ZeroPadding1D, ZeroPadding2D)

TRAINING = {"training": True}


class LayerCase:
    """One configuration of one layer, with what `run_layer_test` should find."""

    def __init__(self, cls, init_kwargs, input_shape, expected_output_shape,
                 expected_num_trainable_weights, expected_num_non_trainable_weights=0,
                 label=None, **options):
        self.cls = cls
        self.init_kwargs = init_kwargs
        self.input_shape = input_shape
        self.expected_output_shape = expected_output_shape
        self.expected_num_trainable_weights = expected_num_trainable_weights
        self.expected_num_non_trainable_weights = expected_num_non_trainable_weights
        self.label = label
        self.options = options

    def run_layer_test_kwargs(self):
        return dict(layer_cls=self.cls, init_kwargs=self.init_kwargs,
                    input_shape=self.input_shape,
                    expected_output_shape=self.expected_output_shape,
                    expected_num_trainable_weights=self.expected_num_trainable_weights,
                    expected_num_non_trainable_weights=self.expected_num_non_trainable_weights,
                    **self.options)

    @property
    def id(self):
        """`Dense-units=3`, `Dropout-rate=0.5-train`: the class and a short suffix."""
        if self.label is not None:
            suffix = self.label
        else:
            suffix = "-".join(f"{key}={_short(value)}" for key, value in
                              self.init_kwargs.items()) or "default"
            if (self.options.get("call_kwargs") or {}).get("training"):
                suffix += "-train"
        return f"{self.cls.__name__}-{suffix}"


def _short(value):
    if isinstance(value, (tuple, list)):
        return "x".join(_short(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


CASES = [
    # -- core ----------------------------------------------------------------------------------
    LayerCase(Dense, {"units": 3}, (2, 4), (2, 3), 2),
    LayerCase(Dense, {"units": 3, "activation": "relu", "use_bias": False}, (2, 5, 4),
              (2, 5, 3), 1),
    LayerCase(Dense, {"units": 3, "kernel_regularizer": "l2", "activity_regularizer": "l1"},
              (2, 4), (2, 3), 2, label="regularizers"),
    # A frozen layer's weights are all non-trainable.
    LayerCase(Dense, {"units": 3, "trainable": False}, (2, 4), (2, 3), 0, 2),
    LayerCase(Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0),
    LayerCase(Dropout, {"rate": 0.5}, (4, 5), (4, 5), 0),
    LayerCase(Dropout, {"rate": 0.5, "seed": 1}, (4, 5), (4, 5), 0, call_kwargs=TRAINING),
    LayerCase(Flatten, {}, (2, 3, 4), (2, 12), 0),
    LayerCase(Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), (2, 6, 2), 0),
    # The identity on its input; the shape it declares is that of one sample.
    LayerCase(InputLayer, {"input_shape": (3,)}, (2, 3), (2, 3), 0),
    # Lambda refuses `from_config` of Python code by design (it would run arbitrary code).
    LayerCase(Lambda, {"function": lambda t: t ** 2}, (2, 6), (2, 6), 0, label="square",
              config_round_trip=False),
    LayerCase(Identity, {}, (2, 3, 4), (2, 3, 4), 0),

    # -- activations -------------------------------------------------------------------------
    LayerCase(ReLU, {"max_value": 6.0}, (2, 5), (2, 5), 0),
    LayerCase(LeakyReLU, {"negative_slope": 0.1}, (2, 5), (2, 5), 0),
    LayerCase(ELU, {"alpha": 0.5}, (2, 5), (2, 5), 0),
    LayerCase(Softmax, {"axis": 1}, (2, 3, 4), (2, 3, 4), 0),

    # -- convolutions --------------------------------------------------------------------------
    LayerCase(Conv1D, {"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4), 2),
    LayerCase(Conv1D, {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
              (2, 8, 3), (2, 8, 2), 2),
    LayerCase(Conv2D, {"filters": 4, "kernel_size": 3}, (2, 7, 7, 3), (2, 5, 5, 4), 2),
    LayerCase(Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                       "groups": 2}, (2, 7, 7, 2), (2, 4, 4, 4), 2),
    LayerCase(Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 2),
              (2, 11, 3), 2),
    LayerCase(Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2,
                                "padding": "same"}, (2, 4, 5, 2), (2, 8, 10, 3), 2),
    LayerCase(DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2, "strides": 2,
                                "padding": "same"}, (2, 7, 3), (2, 4, 6), 2),
    LayerCase(DepthwiseConv2D, {"kernel_size": 3}, (2, 6, 6, 3), (2, 4, 4, 3), 2),
    LayerCase(SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 7, 3), (2, 5, 4), 3),
    LayerCase(SeparableConv2D, {"filters": 4, "kernel_size": 3}, (2, 6, 6, 3), (2, 4, 4, 4), 3),

    # -- pooling -------------------------------------------------------------------------------
    LayerCase(MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3),
              (2, 4, 3), 0),
    LayerCase(MaxPooling2D, {}, (2, 6, 6, 3), (2, 3, 3, 3), 0),
    LayerCase(AveragePooling1D, {"pool_size": 2, "strides": 1}, (2, 5, 2), (2, 4, 2), 0),
    LayerCase(AveragePooling2D, {"pool_size": 2, "padding": "same"}, (1, 5, 5, 2),
              (1, 3, 3, 2), 0),
    LayerCase(GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3), 0),
    LayerCase(GlobalMaxPooling2D, {"keepdims": True}, (2, 4, 5, 3), (2, 1, 1, 3), 0),
    LayerCase(GlobalAveragePooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3), 0),
    LayerCase(GlobalAveragePooling2D, {}, (2, 4, 5, 3), (2, 3), 0),

    # -- normalization -------------------------------------------------------------------------
    LayerCase(BatchNormalization, {}, (4, 3), (4, 3), 2, 2),
    LayerCase(BatchNormalization, {"axis": 1, "momentum": 0.9}, (2, 3, 4, 4), (2, 3, 4, 4),
              2, 2, call_kwargs=TRAINING),
    LayerCase(LayerNormalization, {}, (3, 4), (3, 4), 2),
    LayerCase(LayerNormalization, {"rms_scaling": True}, (3, 4), (3, 4), 1),
    LayerCase(GroupNormalization, {"groups": 3}, (2, 4, 4, 6), (2, 4, 4, 6), 2),

    # -- regularization ------------------------------------------------------------------------
    LayerCase(ActivityRegularization, {"l1": 0.01, "l2": 0.02}, (3, 4), (3, 4), 0),
    LayerCase(GaussianNoise, {"stddev": 0.5, "seed": 3}, (3, 4), (3, 4), 0,
              call_kwargs=TRAINING),
    LayerCase(GaussianDropout, {"rate": 0.3, "seed": 3}, (2, 3, 4), (2, 3, 4), 0,
              call_kwargs=TRAINING),
    LayerCase(AlphaDropout, {"rate": 0.2, "seed": 3}, (3, 4), (3, 4), 0, call_kwargs=TRAINING),
    LayerCase(SpatialDropout1D, {"rate": 0.5, "seed": 1}, (2, 5, 3), (2, 5, 3), 0,
              call_kwargs=TRAINING),
    LayerCase(SpatialDropout2D, {"rate": 0.5, "seed": 1}, (2, 4, 4, 3), (2, 4, 4, 3), 0,
              call_kwargs=TRAINING),
    LayerCase(SpatialDropout3D, {"rate": 0.5, "seed": 1}, (2, 3, 3, 3, 2), (2, 3, 3, 3, 2), 0,
              call_kwargs=TRAINING),

    # -- reshaping -----------------------------------------------------------------------------
    LayerCase(Cropping1D, {"cropping": (2, 0)}, (2, 6, 3), (2, 4, 3), 0),
    LayerCase(Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 4, 5, 3), (2, 3, 2, 3), 0),
    LayerCase(ZeroPadding1D, {"padding": (0, 2)}, (2, 6, 3), (2, 8, 3), 0),
    LayerCase(ZeroPadding2D, {"padding": ((1, 2), (0, 3))}, (2, 4, 5, 3), (2, 7, 8, 3), 0),
    LayerCase(Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0),
    LayerCase(RepeatVector, {"n": 4}, (2, 3), (2, 4, 3), 0),
    LayerCase(UpSampling2D, {"size": 2, "interpolation": "bilinear"}, (2, 3, 3, 1),
              (2, 6, 6, 1), 0),

    # -- merging -------------------------------------------------------------------------------
    LayerCase(Add, {}, [(2, 3), (2, 3), (2, 3)], (2, 3), 0),
    LayerCase(Subtract, {}, [(2, 3), (2, 4, 3)], (2, 4, 3), 0),
    LayerCase(Multiply, {}, [(2, 4, 3), (2, 4, 3)], (2, 4, 3), 0),
    LayerCase(Average, {}, [(2, 3), (2, 3)], (2, 3), 0),
    LayerCase(Maximum, {}, [(2, 3), (2, 3)], (2, 3), 0),
    LayerCase(Minimum, {}, [(2, 3), (2, 3)], (2, 3), 0),
    LayerCase(Concatenate, {}, [(2, 3), (2, 4)], (2, 7), 0),
    LayerCase(Concatenate, {"axis": 1}, [(2, 2, 5), (2, 1, 5)], (2, 3, 5), 0),
    LayerCase(Dot, {"axes": (2, 1)}, [(2, 3, 4), (2, 4, 5)], (2, 3, 5), 0),
    LayerCase(Dot, {"axes": -1, "normalize": True}, [(2, 3), (2, 3)], (2, 1), 0),

    # -- preprocessing -------------------------------------------------------------------------
    LayerCase(Rescaling, {"scale": 1 / 255, "offset": -1.0}, (2, 4, 4, 3), (2, 4, 4, 3), 0),
    # Images usually arrive as uint8.
    LayerCase(Rescaling, {"scale": 1 / 255}, (2, 4, 4, 3), (2, 4, 4, 3), 0, label="uint8",
              input_dtype="uint8"),
    LayerCase(Normalization, {"mean": [1., 2., 3.], "variance": [1., 4., 9.]}, (2, 4, 3),
              (2, 4, 3), 0),
    LayerCase(Normalization, {"axis": None, "mean": 2., "variance": 4., "invert": True},
              (3, 2), (3, 2), 0),
    LayerCase(Resizing, {"height": 4, "width": 6}, (2, 8, 8, 3), (2, 4, 6, 3), 0),
    LayerCase(CenterCrop, {"height": 3, "width": 4}, (2, 5, 6, 1), (2, 3, 4, 1), 0),
    LayerCase(RandomCrop, {"height": 3, "width": 4, "seed": 1}, (2, 6, 6, 1), (2, 3, 4, 1), 0,
              call_kwargs=TRAINING),
    LayerCase(RandomFlip, {"mode": "horizontal", "seed": 2}, (3, 5, 6, 2), (3, 5, 6, 2), 0,
              call_kwargs=TRAINING),
    LayerCase(RandomRotation, {"factor": 0.2, "seed": 1}, (2, 6, 5, 3), (2, 6, 5, 3), 0,
              call_kwargs=TRAINING),
    LayerCase(RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2, "seed": 1},
              (3, 7, 7, 1), (3, 7, 7, 1), 0, call_kwargs=TRAINING),
    LayerCase(RandomZoom, {"height_factor": 0.3, "seed": 1}, (2, 6, 6, 2), (2, 6, 6, 2), 0,
              call_kwargs=TRAINING),
    LayerCase(RandomContrast, {"factor": 0.5, "seed": 1}, (2, 4, 4, 3), (2, 4, 4, 3), 0,
              call_kwargs=TRAINING),
    LayerCase(RandomBrightness, {"factor": (-0.2, 0.3), "value_range": (-5, 5), "seed": 1},
              (2, 4, 4, 3), (2, 4, 4, 3), 0, call_kwargs=TRAINING),
]

# The recurrent layers' cases live in their own module (many configurations).
from tests.keras.rnn_layer_cases import RNN_CASES  # noqa: E402

CASES += RNN_CASES

# The categorical and text preprocessing layers' cases live in their own module.
from tests.keras.lookup_layer_cases import LOOKUP_CASES  # noqa: E402

CASES += LOOKUP_CASES

# DenseFeatures (tf.feature_column): its cases feed dicts of features.
from tests.feature_column.dense_features_cases import DENSE_FEATURES_CASES  # noqa: E402

CASES += DENSE_FEATURES_CASES

# Embedding, Masking, TimeDistributed, Bidirectional, ConvLSTM: their own module.
from tests.keras.sequence_layer_cases import SEQUENCE_CASES  # noqa: E402

CASES += SEQUENCE_CASES

# Attention layers and EinsumDense: their own module.
from tests.keras.attention_layer_cases import ATTENTION_CASES  # noqa: E402

CASES += ATTENTION_CASES
