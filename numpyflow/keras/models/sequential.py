"""`Sequential`: a model that is a plain stack of layers, each feeding the next."""

import logging

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.input_layer import InputLayer, KerasInput
from numpyflow.keras.models.model import Model, stack_changed

_log = logging.getLogger("numpyflow")


class Sequential(Model):
    """A linear stack of layers.

    Args:
      layers: Optional list of layers to add.
      name: Model name (`sequential`, `sequential_1`, ... by default).

    >>> import numpyflow as tf
    >>> model = tf.keras.models.Sequential()
    >>> model.add(tf.keras.layers.Flatten())
    >>> model.add(tf.keras.layers.Dense(128, activation="relu"))
    >>> model.add(tf.keras.layers.Dense(10, activation="softmax"))
    >>> model.build((None, 28 * 28))
    >>> model.count_params()
    101770
    """

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._stack = []                 # Every layer, the InputLayer (if any) first.
        self._build_input_shape = None
        self._shape_warning_given = False
        self._last_compatible = None  # (built-for shape, an input shape compatible with it)
        self._call_function = None    # The compiled call, while every layer is numpyflow's.
        self._stack_is_builtin = None
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self):
        # As in tf.keras, the InputLayer is not listed.
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer):
        """Adds a layer on top of the stack (a `keras.Input(...)` declares the input shape)."""
        if isinstance(layer, KerasInput):
            layer = layer._input_layer
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: "
                            f"layer={layer!r} of type {type(layer).__name__}.")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f'All layers added to a Sequential model should have unique names. '
                             f'Name "{layer.name}" is already the name of a layer in this model. '
                             f'Update the `name` argument to pass a unique name.')
        self._stack.append(layer)
        self._tracked_layers.append(layer)
        self._forget_step_functions()
        stack_changed()  # For the models holding this one.
        if self.built:
            self.build(self._build_input_shape)  # Builds just the new layer.
        elif self._stack[0]._batch_input_shape is not None:
            self.build(self._stack[0]._batch_input_shape)

    def pop(self):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._tracked_layers.remove(layer)
        self._forget_step_functions()
        stack_changed()  # For the models holding this one.
        return layer

    def build(self, input_shape=None):
        """Creates every layer's weights for inputs of `input_shape` (batch dimension first)."""
        if input_shape is None:
            input_shape = self._stack[0]._batch_input_shape if self._stack else None
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = tf.TensorShape(input_shape)
        self._build_input_shape = shape
        for layer in self._stack:
            layer._build_from_shape(shape)
            shape = layer.compute_output_shape(shape)
            layer._output_shape = shape
        self.built = True

    def _maybe_build(self, inputs):
        # Built from the first batch: the batch size stays free, as in tf.keras.
        self.build((None,) + tuple(inputs.shape)[1:])

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError("The model has not been built yet, so it has no input shape.")
        return tuple(self._build_input_shape)

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError("The model has not been built yet, so it has no output shape.")
        return tuple(self.compute_output_shape(self._build_input_shape))

    def __call__(self, inputs, *args, **kwargs):
        # A built stack of numpyflow's own layers runs no Python that depends on the data
        # or has side effects, so its call can be a compiled plan (tf.function): the same
        # results, without the per-layer and per-op Python (`model(x)` on one sample: ~3x
        # less). Under a GradientTape, the function runs eagerly, so gradients flow.
        self._forget_stale_plans()
        if args or not self.built or set(kwargs) - {"training"} or not self._builtin_stack():
            return super().__call__(inputs, *args, **kwargs)
        if self._call_function is None:
            self._call_function = tf.function(self._call_and_logits)
        output, softmax_logits, sigmoid_logits = self._call_function(
            inputs, kwargs.get("training"))
        # Losses given the output compute from the logits (see activations.softmax).
        return activations.remember_logits(output, softmax_logits, sigmoid_logits)

    def _forget_step_functions(self):
        # A stack changed: compiled plans (and whether it may compile) must be redone.
        super()._forget_step_functions()
        self._call_function = None
        self._stack_is_builtin = None

    def _call_and_logits(self, inputs, training):
        output = super().__call__(inputs, training=training)
        return (output, activations.logits_from_softmax(output),
                activations.logits_from_sigmoid(output))

    def _builtin_stack(self):
        if self._stack_is_builtin is None:
            self._stack_is_builtin = all(_is_builtin(layer) for layer in self._stack)
        return self._stack_is_builtin

    def call(self, inputs, training=None, mask=None):
        if not self._shape_warning_given:
            self._check_input_shape(inputs)
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    def _check_input_shape(self, inputs):
        """Warns once when called on a shape other than the one it was built for.

        tf.keras 2.x warned and went on (Keras 3 raises): a model built for (None, 784) that
        starts with Flatten still works on (N, 28, 28) images, as in the classic tutorials.
        Layers whose weights don't fit still raise their own error.
        """
        expected = self._build_input_shape
        shape = tuple(inputs.shape)
        if (expected, shape) == self._last_compatible:
            return  # As on the previous call: this runs on every call, so it is kept cheap.
        if expected is None or tf.TensorShape(shape).is_compatible_with(expected):
            self._last_compatible = (expected, shape)
            return
        self._shape_warning_given = True
        first = f"{self._stack[0].name}_input" if self._stack else "input"
        _log.warning(
            "Model was constructed with shape %s for input KerasTensor(type_spec=TensorSpec("
            "shape=%s, dtype=tf.float32, name='%s'), name='%s', description=\"created by layer "
            "'%s'\"), but it was called on an input with incompatible shape %s.",
            tuple(expected), tuple(expected), first, first, first, tuple(inputs.shape))

    def get_config(self):
        return {"name": self.name,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in self._stack]}


def _is_builtin(layer):
    """Whether `layer` and the functions it calls are all numpyflow's own code."""
    if isinstance(layer, Sequential):
        return type(layer) is Sequential and layer._builtin_stack()
    parts = [type(layer), getattr(layer, "activation", None)]
    return all(part is None or getattr(part, "__module__", "").startswith("numpyflow.")
               for part in parts)
