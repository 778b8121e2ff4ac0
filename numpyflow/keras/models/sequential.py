"""`Sequential`: a model that is a plain stack of layers, each feeding the next.

Once its input shape is known (an `Input`/`input_shape`, `build()`, or the first batch),
a Sequential model is a functional graph underneath, as in Keras: each layer has been
called on the previous one's KerasTensor, so `model.input`, `model.outputs` and
`layer.output` work (`keras.Model(model.input, model.layers[1].output)` makes a feature
extractor). Before that it is a lazy stack of layers. Inputs are converted to the dtype
of that graph's input, as Keras 3 does (uint8 images to float32; ids to an
`Input(dtype="int32")` stay integers).

A model first called on a dict of features (`DenseFeatures` first, tf.keras 2's
feature-column tutorial) stays a plain stack of layers, as in tf.keras 2.15: no graph, no
`model.input`, "multiple" as each layer's output shape in `summary()`.
"""

import logging

import numpy as np

import numpyflow as tf
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.input_layer import InputLayer
from numpyflow.keras.models.input_dtypes import convert_to_input_dtype
from numpyflow.keras.models.model import Model
from numpyflow.keras.trainers.data_adapters import data_adapter_utils

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
        if self.built and self._graph_input is not None:
            self._graph_outputs.append(self._call_symbolically(layer, self._graph_output))
        elif not self.built and self._stack[0]._batch_input_shape is not None:
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
        by calling the layers on a KerasTensor of that shape.

        A dict of shapes (one per feature, for a first `DenseFeatures` layer) builds each
        layer from its input shape instead, without a graph (as tf.keras 2.15).
        """
        if input_shape is None:
            input_shape = self._stack[0]._batch_input_shape if self._stack else None
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if isinstance(input_shape, dict):
            self._build_stack(input_shape, build_layers=True)
            return
        self._build_graph(input_shape, self._default_input_dtype())

    def _default_input_dtype(self):
        """The dtype of an input made for the model: its first layer's (as Keras 3)."""
        return self._stack[0]._dtype if self._stack else tf.float32

    def _build_graph(self, input_shape, dtype):
        shape = tf.TensorShape(input_shape)
        self._is_graph_network = True
        if self._stack and isinstance(self._stack[0], InputLayer):
            self._graph_input = self._stack[0].output
            layers = self._stack[1:]
        else:
            self._graph_input = InputLayer(batch_input_shape=tuple(shape), dtype=dtype,
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

    def _build_stack(self, input_shapes, build_layers):
        """Makes the model a plain stack of layers for a structure of inputs (a dict of
        features): no graph, as tf.keras 2.15. With `build_layers`, each layer is built
        from the output shape of the one before; otherwise the first call builds them."""
        self._is_graph_network = False  # Model.__call__ then calls the layers eagerly.
        self._graph_input, self._graph_outputs = None, []
        self._build_input_shape = {key: tf.TensorShape(shape)
                                   for key, shape in input_shapes.items()}
        if build_layers:
            shape = self._build_input_shape
            for layer in self._stack:
                layer._build_from_shape(shape)
                shape = layer.compute_output_shape(shape)
        self.built = True

    def _maybe_build(self, inputs):
        # Built from the first batch: the batch size stays free, as in tf.keras.
        if isinstance(inputs, dict):
            self._build_stack({key: (None,) + tuple(x.shape)[1:] for key, x in inputs.items()},
                              build_layers=False)
            return
        if not isinstance(inputs, tf.Tensor):
            raise ValueError(f"Sequential model '{self.name}' takes one input Tensor or a dict "
                             f"of features; received {type(inputs).__name__} of "
                             f"{len(inputs)} values. Use the functional API for a model with "
                             f"several inputs.")
        dtype = tf.string if inputs.dtype is tf.string else self._default_input_dtype()
        self._build_graph((None,) + tuple(inputs.shape)[1:], dtype)

    def _convert_inputs(self, inputs):
        """Array inputs as Tensors of their own dtype: `call()` converts a single input
        to the dtype of the model's input (Keras 3), and with a dict of features the first
        layer converts them (feature columns take strings, ints and floats)."""
        if isinstance(inputs, dict):
            return {key: self._convert_inputs(value) for key, value in inputs.items()}
        if isinstance(inputs, tf.Tensor):
            return inputs
        if data_adapter_utils.is_nested(inputs):  # [x1, x2]: refused by _maybe_build.
            return type(inputs)(self._convert_inputs(value) for value in inputs)
        return tf.convert_to_tensor(inputs if isinstance(inputs, np.ndarray)
                                    else np.asarray(inputs))

    def compute_output_shape(self, input_shape):
        shape = input_shape if isinstance(input_shape, dict) else tf.TensorShape(input_shape)
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
        if self._graph_input is None:
            raise AttributeError(f"Sequential model '{self.name}' takes a structure of inputs "
                                 f"(built for {self._shape_text()}), so it is a plain stack of "
                                 f"layers without a graph: it has no {what}. Use the "
                                 f"functional API for a model with several inputs.")
        return tensor

    def _shape_text(self):
        shape = self._build_input_shape
        if isinstance(shape, dict):
            return {key: tuple(value) for key, value in shape.items()}
        return tuple(shape)

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError("The model has not been built yet, so it has no input shape.")
        return self._shape_text()

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError("The model has not been built yet, so it has no output shape.")
        return tuple(self._graph_output.shape)

    def call(self, inputs, training=None, mask=None):
        x = inputs
        graph_input = self._graph_input
        if graph_input is not None:  # One input: converted to its dtype, as Keras 3.
            if type(x) is not tf.Tensor or x.dtype is not graph_input.dtype:
                x = convert_to_input_dtype(x, graph_input.dtype, self.name,
                                           graph_input._keras_history[0].name)
            if not self._shape_warning_given:
                self._check_input_shape(x)
        if mask is not None and isinstance(x, tf.Tensor):  # Read by the first layer.
            x._keras_mask = mask
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
            "shape=%s, dtype=tf.%s, name='%s'), name='%s', description=\"created by layer "
            "'%s'\"), but it was called on an input with incompatible shape %s.",
            tuple(expected), tuple(expected), self._graph_input.dtype.name, first, first, first,
            tuple(inputs.shape))

    def get_config(self):
        """Keras 3's Sequential config: the layers in order, and the shape it was built for."""
        from numpyflow.keras.saving import serialization_lib
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                  "layers": [serialization_lib.serialize_keras_object(layer)
                             for layer in self._stack]}
        if self._build_input_shape is not None:
            shape = self._build_input_shape
            config["build_input_shape"] = (
                {key: value.as_list() for key, value in shape.items()}
                if isinstance(shape, dict) else shape.as_list())
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
