"""`Layer`: the base class of every Keras layer and model.

A layer keeps its configuration in `__init__`, creates its weights in `build()` (via
`add_weight`, once the input shape is known) and does its math in `call()` with
numpyflow ops. `__call__` ties them together: converts and casts the inputs, builds on
first use, checks the input against `input_spec`, and calls `call()`.
"""

import inspect

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.layers.input_spec import InputSpec, check_input


class Layer:
    """Base class for layers: weights, building, calling and configuration.

    Args:
      trainable: Whether the layer's weights are updated by training.
      name: Layer name; derived from the class name when omitted (`dense`, `dense_1`, ...).
      dtype: The dtype of weights and computation (`keras.backend.floatx()` by default).
      input_shape: Optional shape of one sample (without the batch dimension), so that a
        Sequential model starting with this layer can be built right away.

    Example: a custom layer

    >>> import numpyflow as tf
    >>> class Scale(tf.keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
    ...                                      initializer="ones")
    ...     def call(self, inputs):
    ...         return inputs * self.scale
    >>> Scale()(tf.ones((2, 3))).shape
    TensorShape([2, 3])
    """

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None, **kwargs):
        unknown = set(kwargs) - {"autocast", "activity_regularizer", "weights"}
        if unknown:
            raise TypeError(f"Keyword argument not understood by {type(self).__name__}: "
                            f"{sorted(unknown)}")
        self._tracked_layers = []
        self._tracked_weights = []
        self._trainable = trainable
        self.name = name or backend.unique_object_name(backend.snake_case(type(self).__name__))
        self._dtype = tf.as_dtype(dtype or backend.floatx())
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self._call_accepts_training = "training" in inspect.signature(self.call).parameters

    # -- attribute tracking: sub-layers and variables assigned to `self` ---------------------
    def __setattr__(self, name, value):
        if not name.startswith("_tracked"):
            tracked = getattr(self, "_tracked_layers", None)
            if tracked is not None:
                for item in (value if isinstance(value, (list, tuple)) else (value,)):
                    if isinstance(item, Layer) and item is not self and \
                            not any(item is t for t in tracked):
                        tracked.append(item)
                    elif isinstance(item, tf.Variable) and \
                            not any(item is w for w in self._tracked_weights):
                        self._tracked_weights.append(item)
        object.__setattr__(self, name, value)

    # -- weights ----------------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=None, constraint=None, **kwargs):
        """Creates a weight variable owned by this layer.

        Args:
          name: Weight name (the variable is named `"<layer>/<name>"`).
          shape: The weight's shape.
          dtype: Defaults to the layer's dtype.
          initializer: Initializer instance or name; "glorot_uniform" for floats by default.
          trainable: Whether the optimizer updates it (default True).

        Returns:
          A `tf.Variable`.
        """
        from numpyflow.keras import initializers
        shape = tuple(() if shape is None else shape)
        dtype = tf.as_dtype(dtype or self._dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        initializer = initializers.get(initializer)
        trainable = True if trainable is None else trainable
        variable = tf.Variable(initializer(shape, dtype=dtype), trainable=trainable,
                               name=f"{self.name}/{name or 'weight'}", dtype=dtype)
        self._tracked_weights.append(variable)
        return variable

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._tracked_layers:
            layer.trainable = value

    def _flat_weights(self):
        """All weights of this layer and its sub-layers, each once, in creation order."""
        seen, result = set(), []
        for w in self._tracked_weights + [w for l in self._tracked_layers for w in l.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                result.append(w)
        return result

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [w for w in self._tracked_weights if w.trainable]
        nested = [w for layer in self._tracked_layers for w in layer.trainable_weights]
        return _unique(own + nested)

    @property
    def non_trainable_weights(self):
        trainable_ids = {id(w) for w in self.trainable_weights}
        return [w for w in self._flat_weights() if id(w) not in trainable_ids]

    @property
    def weights(self):
        """Trainable weights first, then non-trainable ones (Keras's order)."""
        return self.trainable_weights + self.non_trainable_weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        return []

    def count_params(self):
        """The total number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             f"layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(w.shape.num_elements() for w in self.weights))

    def get_weights(self):
        """The weights' values as a list of NumPy arrays (copies)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets the weights from a list of arrays, in the order of `get_weights()`."""
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(f"Layer '{self.name}' expects {len(params)} weight arrays, but the "
                             f"provided list has {len(weights)}. Provided weights: "
                             f"{[getattr(w, 'shape', None) for w in weights]}")
        for variable, value in zip(params, weights):
            if tuple(getattr(value, "shape", ())) != tuple(variable.shape):
                raise ValueError(f"Layer '{self.name}' weight shape {tuple(variable.shape)} is "
                                 f"not compatible with provided weight shape "
                                 f"{tuple(getattr(value, 'shape', ()))}.")
            variable.assign(value)

    # -- building and calling -------------------------------------------------------------
    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape`. Override in subclasses."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation. Override in subclasses."""
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        if not self._call_accepts_training:
            kwargs.pop("training", None)
        # The common case, on every call of a model: a built layer given a Tensor of its own
        # dtype, which needs neither conversion nor building (only the input_spec check).
        if type(inputs) is not tf.Tensor or inputs.dtype is not self._dtype or not self.built:
            inputs = self._convert_inputs(inputs)
            if not self.built:
                self._maybe_build(inputs)
        if self.input_spec is not None:
            check_input(self, inputs)
        return self.call(inputs, *args, **kwargs)

    def _convert_inputs(self, inputs):
        """Tensors for array inputs; float inputs cast to the layer's dtype, as tf.keras does."""
        if not isinstance(inputs, tf.Tensor):
            if isinstance(inputs, (list, tuple)):
                return type(inputs)(self._convert_inputs(x) for x in inputs)
            if isinstance(inputs, dict):
                return {k: self._convert_inputs(v) for k, v in inputs.items()}
            inputs = tf.convert_to_tensor(inputs)
        dtype = inputs.dtype
        if dtype is self._dtype or not dtype.is_floating:
            return inputs
        return tf.cast(inputs, self._dtype)

    def _maybe_build(self, inputs):
        if isinstance(inputs, (list, tuple)):
            shape = [x.shape for x in inputs]
        else:
            shape = inputs.shape
        if self.input_spec is not None:
            check_input(self, inputs)
        self.build(shape)
        self.built = True

    def _build_from_shape(self, input_shape):
        """Builds for `input_shape` without data (Sequential.build, summary)."""
        if self.built:
            return
        if self.input_spec is not None:
            check_input(self, _ShapeOnly(input_shape))
        self.build(input_shape)
        self.built = True

    @property
    def output_shape(self):
        shape = getattr(self, "_output_shape", None)
        if shape is None:
            raise AttributeError(f"The layer '{self.name}' has never been built into a model, "
                                 f"so it has no defined output shape.")
        return tuple(shape)

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (None for unknown dims).

        This default runs `call()` on zeros (unknown dims taken as 1); layers override it
        when they can say it without computing.
        """
        input_shape = tf.TensorShape(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
        sample = tf.zeros([1 if d is None else d for d in input_shape], dtype=self._dtype)
        dims = list(self.call(sample).shape)
        if dims and input_shape.rank and input_shape[0] is None:
            dims[0] = None  # The batch dimension stays unknown.
        return tf.TensorShape(dims)

    # -- configuration --------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype.name

    @property
    def compute_dtype(self):
        return self._dtype.name

    @property
    def variable_dtype(self):
        return self._dtype.name

    def get_config(self):
        """The constructor arguments that recreate this layer (without weights)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from the dict `get_config()` returned."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name}>"


class _ShapeOnly:
    """Stands in for a tensor when only its shape is known (input_spec checks at build)."""

    def __init__(self, shape):
        self.shape = shape


def _unique(items):
    seen, result = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            result.append(item)
    return result


__all__ = ["Layer", "InputSpec"]
