"""`Sequential`: a model that is a plain stack of layers, each feeding the next.

Once its input shape is known (an `Input`/`input_shape`, `build()`, or the first batch),
a Sequential model is a functional graph underneath, as in Keras: each layer has been
called on the previous one's KerasTensor, so `model.input`, `model.outputs` and
`layer.output` work (`keras.Model(model.input, model.layers[1].output)` makes a feature
extractor). Before that it is a lazy stack of layers.
"""

import logging

import numpyflow as tf
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.input_layer import InputLayer
from numpyflow.keras.models.model import Model

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
        self._is_graph_network = True
        self._stack = []                 # Every layer, the InputLayer (if any) first.
        self._build_input_shape = None
        self._graph_input = None         # Once built: the input KerasTensor, and each
        self._graph_outputs = []         # layer's output KerasTensor in stack order.
        self._shape_warning_given = False
        self._last_compatible = None  # (built-for shape, an input shape compatible with it)
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self):
        # As in tf.keras, the InputLayer is not listed.
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer):
        """Adds a layer on top of the stack (a `keras.Input(...)` declares the input shape)."""
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
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
        self._stack_changed()
        if self.built:
            self._graph_outputs.append(self._call_symbolically(layer, self._graph_output))
        elif self._stack[0]._batch_input_shape is not None:
            self.build(self._stack[0]._batch_input_shape)

    def pop(self):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._tracked_layers.remove(layer)
        self._stack_changed()
        if self.built and self._graph_outputs:
            self._graph_outputs.pop()
        return layer

    def _stack_changed(self):
        # Compiled plans ran the old stack: this model's and those of models holding it.
        self._version += 1
        self._forget_step_functions()

    def build(self, input_shape=None):
        """Creates every layer's weights for inputs of `input_shape` (batch dimension first),
        by calling the layers on a KerasTensor of that shape."""
        if input_shape is None:
            input_shape = self._stack[0]._batch_input_shape if self._stack else None
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = tf.TensorShape(input_shape)
        if self._stack and isinstance(self._stack[0], InputLayer):
            self._graph_input = self._stack[0].output
            layers = self._stack[1:]
        else:
            self._graph_input = InputLayer(batch_input_shape=tuple(shape),
                                           name=f"{self.name}_input").output
            layers = self._stack
        self._build_input_shape = shape
        x, self._graph_outputs = self._graph_input, []
        for layer in layers:
            x = self._call_symbolically(layer, x)
            self._graph_outputs.append(x)
        self.built = True

    @staticmethod
    def _call_symbolically(layer, x):
        x = layer(x)
        if isinstance(x, (list, tuple, dict)):
            raise ValueError(f"All layers in a Sequential model should have a single output "
                             f"tensor; layer '{layer.name}' has several. For multi-output "
                             f"layers, use the functional API.")
        return x

    def _maybe_build(self, inputs):
        # Built from the first batch: the batch size stays free, as in tf.keras.
        self.build((None,) + tuple(inputs.shape)[1:])

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def _graph_output(self):
        return self._graph_outputs[-1] if self._graph_outputs else self._graph_input

    @property
    def input(self):
        return self._built_graph_part("input", self._graph_input)

    @property
    def output(self):
        return self._built_graph_part("output", self._graph_output)

    @property
    def inputs(self):
        return [self.input]

    @property
    def outputs(self):
        return [self.output]

    def _built_graph_part(self, what, tensor):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has not been built yet, so "
                                 f"it has no {what}. Give its first layer an input shape or "
                                 f"call build().")
        return tensor

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError("The model has not been built yet, so it has no input shape.")
        return tuple(self._build_input_shape)

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError("The model has not been built yet, so it has no output shape.")
        return tuple(self._graph_output.shape)

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
        """Keras 3's Sequential config: the layers in order, and the shape it was built for."""
        from numpyflow.keras.saving import serialization_lib
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                  "layers": [serialization_lib.serialize_keras_object(layer)
                             for layer in self._stack]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = self._build_input_shape.as_list()
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model (same layers; new weights) from `get_config()`'s dict."""
        from numpyflow.keras.saving import serialization_lib
        config = dict(config)
        layers = [serialization_lib.deserialize_keras_object(layer, custom_objects=custom_objects)
                  for layer in config.pop("layers")]
        build_input_shape = config.pop("build_input_shape", None)
        if "dtype" in config:  # Keras 3 writes a dtype policy.
            config["dtype"] = serialization_lib.dtype_policy_name(config["dtype"])
        model = cls(layers=layers, **config)
        if build_input_shape is not None and not model.built:
            model.build(build_input_shape)
        return model

    def get_build_config(self):
        return None  # The config's "build_input_shape" says it.
