"""`EinsumDense`: a dense layer whose product is any einsum of the inputs and a kernel."""

import re

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import (
    add_weight_with_args, serialize_optional, set_weight_args, weight_args_config)
from numpyflow.keras.layers.input_spec import InputSpec

_FORMS = (  # (pattern with "..." written as "0", where the ellipsis is)
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), None),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)"), "left"),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0"), "right"),
)


class EinsumDense(Layer):
    """A dense layer computing `activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
      equation: `"<input>,<kernel>-><output>"` subscripts, e.g. `"ab,bc->ac"` (Dense),
        `"abc,cd->abd"` (Dense over a sequence), `"...b,bc->...c"` or `"ab...,bc->ac..."`
        (`...` stands for any number of axes, the batch included when on the left).
      output_shape: The output's shape without the batch axis and the `...` axes (an int
        for one axis); `None` for an axis the input gives.
      activation: Activation function or name; None is linear.
      bias_axes: Letters of the output that get a bias (e.g. `"c"`); None for no bias.
      kernel_initializer, bias_initializer: Initializers (or names).
      kernel_regularizer, bias_regularizer: Optional regularizers (or names).
      kernel_constraint, bias_constraint: Optional constraints (or names).

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64),
    ...                                     bias_axes="d")
    >>> layer(tf.keras.Input((32, 128))).shape
    TensorShape([None, 32, 64])
    >>> layer.kernel.shape, layer.bias.shape
    (TensorShape([128, 64]), TensorShape([64]))
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        for argument, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                                ("gptq_unpacked_column_size", gptq_unpacked_column_size),
                                ("quantization_config", quantization_config)):
            if value is not None:
                raise NotImplementedError(f"EinsumDense: `{argument}` is not supported by "
                                          f"numpyflow. Received: {argument}={value!r}")
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: `equation` must be a string. Received: "
                             f"equation={equation!r}")
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_args(self, "kernel", kernel_initializer, kernel_regularizer,
                        kernel_constraint)
        set_weight_args(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.kernel = self.bias = None  # Keras 3: no masking support (masks stop here).
        self.full_output_shape = None

    def build(self, input_shape):
        input_shape = tuple(tf.TensorShape(input_shape))
        kernel_shape, bias_shape, output_shape = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"EinsumDense '{self.name}': the kernel's shape {kernel_shape} "
                             f"(from equation '{self.equation}', input shape {input_shape} "
                             f"and output_shape={self.partial_output_shape}) has an unknown "
                             f"dimension; give it in `output_shape`.")
        self.full_output_shape = tuple(output_shape)
        self.input_spec = InputSpec(ndim=len(input_shape))
        self.kernel = add_weight_with_args(self, "kernel", "kernel", tuple(kernel_shape))
        if bias_shape is not None:
            self.bias = add_weight_with_args(self, "bias", "bias", tuple(bias_shape))
        self.built = True

    def call(self, inputs, training=None):
        outputs = tf.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        if self.activation is not activations.linear:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(tf.TensorShape(input_shape))
        _, _, output_shape = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        return tf.TensorShape(output_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_args_config(self, "kernel", "bias"),
            "activity_regularizer": serialize_optional(self.activity_regularizer),
            "quantization_config": None,
        })
        return config


def analyze_einsum_string(equation, bias_axes, input_shape, partial_output_shape):
    """`(kernel_shape, bias_shape, output_shape)` for an EinsumDense `equation`.

    `output_shape` is the full output shape: the batch dimension (or, with a leading `...`,
    the dimensions it covers), `partial_output_shape` with unknown entries taken from the
    input where a letter is shared, and the dimensions a trailing `...` covers.
    """
    text = equation.replace("...", "0")
    for pattern, elided_side in _FORMS:
        match = pattern.fullmatch(text)
        if match:
            break
    else:
        raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the "
                         f"form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    input_spec, kernel_spec, output_spec = match.groups()
    input_shape = list(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided and elided_side is None):
        raise ValueError(f"EinsumDense: equation '{equation}' names {len(input_spec)} input "
                         f"axes, but the input has shape {tuple(input_shape)}.")
    partial = list(partial_output_shape)
    if len(partial) != len(output_spec) - (elided_side != "left"):
        raise ValueError(f"EinsumDense: output_shape={tuple(partial_output_shape)} must give "
                         f"the output axes '{output_spec}' of equation '{equation}' (without "
                         f"the batch axis and those '...' covers).")
    if elided_side == "left":
        output_shape = input_shape[:elided] + partial
        input_axes = {letter: elided + i for i, letter in enumerate(input_spec)}
        output_axes = {letter: elided + i for i, letter in enumerate(output_spec)}
    else:
        output_shape = [input_shape[0]] + partial + (input_shape[-elided:] if elided else [])
        input_axes = {letter: i for i, letter in enumerate(input_spec)}
        output_axes = {letter: i for i, letter in enumerate(output_spec)}
    for letter, axis in input_axes.items():
        if letter in output_axes:
            size, out_axis = input_shape[axis], output_axes[letter]
            if output_shape[out_axis] is None:
                output_shape[out_axis] = size
            elif size is not None and output_shape[out_axis] != size:
                raise ValueError(f"Input shape and output shape do not match at shared "
                                 f"dimension '{letter}'. Input shape is {size}, and output "
                                 f"shape is {output_shape[out_axis]}.")
    for letter in output_spec:
        if letter not in input_spec and letter not in kernel_spec:
            raise ValueError(f"Dimension '{letter}' was specified in the output "
                             f"'{output_spec}' but has no corresponding dim in the input "
                             f"spec '{input_spec}' or weight spec '{kernel_spec}'")
    kernel_shape = []
    for letter in kernel_spec:
        if letter in output_axes:
            kernel_shape.append(output_shape[output_axes[letter]])
        elif letter in input_axes:
            kernel_shape.append(input_shape[input_axes[letter]])
        else:
            raise ValueError(f"Weight dimension '{letter}' did not have a match in either the "
                             f"input spec '{input_spec}' or the output spec '{output_spec}'. "
                             f"For this layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        for letter in bias_axes:
            if letter not in output_spec:
                raise ValueError(f"Bias dimension '{letter}' was requested, but is not part "
                                 f"of the output spec '{output_spec}'")
        first = min(output_spec.index(letter) for letter in bias_axes)
        bias_shape = [output_shape[output_axes[letter]] if letter in bias_axes else 1
                      for letter in output_spec[first:]]
        if elided_side == "right":
            bias_shape += [1] * elided
    return kernel_shape, bias_shape, output_shape
