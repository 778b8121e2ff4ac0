"""`Layer`: the base class of every Keras layer and model.

A layer keeps its configuration in `__init__`, creates its weights in `build()` (via
`add_weight`, once the input shape is known) and does its math in `call()` with
numpyflow ops. `__call__` ties them together: converts and casts the inputs, builds on
first use, checks the input against `input_spec`, calls `call()`, and hands Keras masks
from inputs to outputs (mask_propagation.py).
"""

import inspect
import threading

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.graph import node as node_module
from numpyflow.keras.layers import mask_propagation as masks
from numpyflow.keras.layers.input_spec import InputSpec, check_input
from numpyflow.keras.saving import layer_config, weight_budget
from numpyflow.keras.utils.object_identity import unique_objects


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
        # Accepted where they change nothing here (numpyflow has no mixed precision, and
        # every layer may run eagerly); any other value would be ignored, so it raises.
        for argument, value, inert in (("dynamic", dynamic, False),
                                       ("weights", kwargs.get("weights"), None),
                                       ("autocast", kwargs.get("autocast", True), True)):
            if value != inert:
                raise NotImplementedError(f"{type(self).__name__}: `{argument}` is not "
                                          f"supported by numpyflow. Received: "
                                          f"{argument}={value!r}")
        self._tracked_layers = []
        self._tracked_weights = []
        self._losses = []                 # From add_loss during the last call (see losses).
        self._weight_regularizers = []    # (variable, regularizer) pairs from add_weight.
        self.activity_regularizer = _regularizers().get(kwargs.get("activity_regularizer"))
        self._trainable = trainable
        self.name = name or backend.unique_object_name(backend.snake_case(type(self).__name__))
        self._dtype = tf.as_dtype(dtype or backend.floatx())
        self.built = False
        self.input_spec = None
        # Keras 3: a layer that overrides `compute_mask` supports masking; others set
        # `supports_masking = True` in their `__init__` when they pass a mask through.
        self._computes_masks = type(self).compute_mask is not Layer.compute_mask
        self.supports_masking = self._computes_masks
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        call_parameters = inspect.signature(self.call).parameters
        self._call_accepts_training = "training" in call_parameters
        # Masks (see mask_propagation.py), decided once: the call of every layer of every
        # model reads these, and the common case (no mask anywhere) must cost nothing.
        self._call_accepts_mask = "mask" in call_parameters
        self._call_mask_arguments = masks.mask_arguments(call_parameters)
        self._inbound_nodes = []  # Calls on KerasTensors (graph/node.py), in call order.
        # Counts the changes that invalidate a model's compiled plans (`trainable`, a
        # Sequential's add/pop); models holding this layer compare it (Model._forget_stale_plans).
        self._version = 0

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
          regularizer: Optional regularizer (or name, e.g. "l2"): its penalty of the weight's
            current value appears in `losses` while the weight is trainable.
          trainable: Whether the optimizer updates it (default True).
          constraint: Optional constraint (or name, e.g. "non_neg"), kept as the variable's
            `constraint`: optimizers apply it after each update.

        Returns:
          A `tf.Variable`.
        """
        from numpyflow.keras import constraints, initializers
        shape = tuple(() if shape is None else shape)
        dtype = tf.as_dtype(dtype or self._dtype)
        weight_budget.charge(self.name, name or "weight", shape, dtype)  # While loading a file.
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        initializer = initializers.get(initializer)
        trainable = True if trainable is None else trainable
        variable = tf.Variable(initializer(shape, dtype=dtype), trainable=trainable,
                               name=f"{self.name}/{name or 'weight'}", dtype=dtype,
                               constraint=constraints.get(constraint))
        regularizer = _regularizers().get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((variable, regularizer))
        self._tracked_weights.append(variable)
        return variable

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezes (False) or unfreezes this layer and every layer below it, as Keras does:
        their weights move to `non_trainable_weights` and training leaves them unchanged."""
        self._trainable = bool(value)
        self._version += 1
        for layer in self._tracked_layers:
            layer.trainable = value

    def _flat_weights(self):
        """All weights, each once: this layer's own (trainable ones first, as Keras 3 keeps
        them), then each sub-layer's in turn — Keras 3's `weights` order, so lists from
        `get_weights()` line up with Keras's for models with BatchNormalization."""
        own = self._tracked_weights
        return unique_objects([w for w in own if w.trainable] +
                              [w for w in own if not w.trainable] +
                              [w for layer in self._tracked_layers for w in layer.weights])

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [w for w in self._tracked_weights if w.trainable]
        nested = [w for layer in self._tracked_layers for w in layer.trainable_weights]
        return unique_objects(own + nested)

    @property
    def non_trainable_weights(self):
        trainable_ids = {id(w) for w in self.trainable_weights}
        return [w for w in self._flat_weights() if id(w) not in trainable_ids]

    @property
    def weights(self):
        """The layer's weights, layer by layer as Keras 3 lists them (a frozen layer's too)."""
        return self._flat_weights()

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        """The scalar losses of this layer and the layers below it.

        First those `add_loss` (and `activity_regularizer`) added during the last call,
        then the weight regularization penalties of the trainable weights, computed from
        the weights' current values each time this is read (as Keras does).

        >>> import numpyflow as tf
        >>> layer = tf.keras.layers.Dense(1, kernel_initializer="ones",
        ...                               kernel_regularizer=tf.keras.regularizers.L1(0.5))
        >>> _ = layer(tf.ones((4, 2)))
        >>> [float(loss) for loss in layer.losses]
        [1.0]
        """
        layers = self._flatten_layers()
        losses = [loss for layer in layers for loss in layer._losses]
        regularizers = {id(variable): regularizer for layer in layers
                        for variable, regularizer in layer._weight_regularizers}
        if regularizers:
            for variable in self.trainable_weights:
                regularizer = regularizers.get(id(variable))
                if regularizer is not None:
                    losses.append(regularizer(variable))
        return losses

    def add_loss(self, loss):
        """Adds a scalar loss (a Tensor, or a list of them) computed in `call()`.

        `fit` adds it to the compiled loss. Losses added during one call replace those of
        the previous call: the outermost layer call clears them for every layer below it.

        >>> import numpyflow as tf
        >>> class ActivityPenalty(tf.keras.layers.Layer):
        ...     def call(self, inputs):
        ...         self.add_loss(0.1 * tf.reduce_sum(tf.square(inputs)))
        ...         return inputs
        >>> layer = ActivityPenalty()
        >>> _ = layer(tf.ones((1, 5)))
        >>> [round(float(loss), 4) for loss in layer.losses]
        [0.5]
        """
        items = list(loss) if isinstance(loss, (list, tuple)) else [loss]
        for item in items:
            if not isinstance(item, tf.Tensor):
                raise ValueError(f"Layer '{self.name}': `add_loss()` takes Tensors computed in "
                                 f"`call()` or `build()`. Received: {item!r}")
        self._losses.extend(items)

    def _flatten_layers(self):
        """This layer and every layer below it, each once, outer layers first."""
        layers, seen, index = [self], {id(self)}, 0
        while index < len(layers):
            for layer in layers[index]._tracked_layers:
                if id(layer) not in seen:
                    seen.add(id(layer))
                    layers.append(layer)
            index += 1
        return layers

    def _clear_losses(self):
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []

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
    @layer_config.recording_build  # As every subclass's build (see __init_subclass__).
    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape`. Override in subclasses."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation. Override in subclasses."""
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        if tf.inside_function():
            # A traced graph names what each layer computes ("sequential/dense"), as TF's
            # graphs do: exporters name tensors and errors after the layer.
            with tf.name_scope(self.name):
                return self._call(inputs, *args, **kwargs)
        return self._call(inputs, *args, **kwargs)

    def _call(self, inputs, *args, **kwargs):
        if not self._call_accepts_training:
            kwargs.pop("training", None)
        # The common case, on every call of a model: a built layer given a Tensor of its own
        # dtype, which needs neither conversion nor building (only the input_spec check).
        if type(inputs) is not tf.Tensor or inputs.dtype is not self._dtype or not self.built:
            if node_module.has_symbolic((inputs, args, kwargs)):
                return node_module.symbolic_call(self, inputs, args, kwargs)
            inputs = self._convert_inputs(inputs)
            if not self.built:
                self._maybe_build(inputs)
        if self.input_spec is not None:
            check_input(self, inputs)
        if type(inputs) is tf.Tensor:
            previous_mask = getattr(inputs, "_keras_mask", None)
        else:
            previous_mask = masks.masks_of(inputs)
        if previous_mask is not None or self._call_mask_arguments or "mask" in kwargs:
            return masks.call_with_masks(self, previous_mask, inputs, args, kwargs)
        outputs = self._call_collecting_losses(inputs, *args, **kwargs)
        if self._computes_masks and self.supports_masking:  # Embedding(mask_zero=True)...
            masks.set_output_masks(self, inputs, outputs, None)
        return outputs

    def compute_mask(self, inputs, previous_mask):
        """The mask of the layer's output(s), given its `inputs` and their mask.

        This default passes `previous_mask` on when `supports_masking` is True (Keras 3);
        layers that make or change masks (Embedding with `mask_zero`, Masking, pooling
        over time) override it. `__call__` attaches the result to the outputs as
        `_keras_mask`, and hands masks to `call(..., mask=...)` of layers that take one.

        >>> import numpyflow as tf
        >>> class Positive(tf.keras.layers.Layer):
        ...     def compute_mask(self, inputs, previous_mask):
        ...         return tf.reduce_any(inputs > 0, axis=-1)
        >>> x = Positive()(tf.constant([[[1.], [0.]]]))
        >>> x._keras_mask.numpy()
        array([[ True, False]])
        """
        return previous_mask if self.supports_masking else None

    def _call_collecting_losses(self, inputs, *args, **kwargs):
        """`call()`, clearing the losses of the previous call when this is the outermost
        layer call of the thread (as Keras 3 does), then adding the activity penalty."""
        state = _call_state
        if state.entry_layer is not None:
            outputs = self.call(inputs, *args, **kwargs)
        else:
            state.entry_layer = self
            try:
                if self._losses or self._tracked_layers:  # Else there is nothing to clear.
                    self._clear_losses()
                outputs = self.call(inputs, *args, **kwargs)
            finally:
                state.entry_layer = None
        if self.activity_regularizer is not None:
            self._add_activity_losses(outputs)
        return outputs

    def _add_activity_losses(self, outputs):
        """activity_regularizer(output) / batch size for each output Tensor (Keras 3:
        the penalty's strength does not change with the batch size)."""
        for output in _flat_tensors(outputs):
            loss = self.activity_regularizer(output)
            batch = output.shape[0] if output.shape.rank else None
            if batch is not None:
                loss = loss / batch if batch else loss * 0.
            self.add_loss(loss)

    # Keras 3's switch: False makes `_convert_inputs` turn arrays into Tensors of their own
    # dtype and cast nothing (a functional model converts to its Inputs' dtypes itself).
    _convert_input_args = True

    def _convert_inputs(self, inputs):
        """Tensors for array inputs, cast to the layer's float dtype: floats (Keras's
        autocast), and integers and booleans too.

        Keras 3 leaves integer inputs alone and its Dense gets float32 from its ops' type
        promotion; numpyflow's ops follow TF's rules (no promotion), so the cast here is
        what lets Dense and Conv2D take raw uint8 images. Layers that take ids or strings
        (Embedding, lookups, feature columns) override this; models convert to their
        `Input`'s dtype (Keras 3's `Functional._standardize_inputs`).
        """
        if not isinstance(inputs, tf.Tensor):
            if isinstance(inputs, (list, tuple)):
                return type(inputs)(self._convert_inputs(x) for x in inputs)
            if isinstance(inputs, dict):
                return {k: self._convert_inputs(v) for k, v in inputs.items()}
            inputs = tf.convert_to_tensor(inputs)
        if not self._convert_input_args:
            return inputs
        dtype = inputs.dtype
        if dtype is self._dtype or not self._dtype.is_floating or not (
                dtype.is_floating or dtype.is_integer or dtype.is_bool):
            return inputs
        mask = getattr(inputs, "_keras_mask", None)
        inputs = tf.cast(inputs, self._dtype)
        if mask is not None:  # The cast tensor describes the same steps.
            inputs._keras_mask = mask
        return inputs

    def _maybe_build(self, inputs):
        shape = node_module.shapes_of(inputs)  # A shape, or a list or dict of them.
        if self.input_spec is not None:
            check_input(self, inputs)
        self.build(shape)
        self.built = True
        # What it was first called on: how an exporter traces a subclassed model.
        self._build_shapes = shape

    def _build_from_shape(self, input_shape, inputs=None):
        """Builds for `input_shape` without data (Sequential.build, symbolic calls);
        `inputs`, if given, are the KerasTensors of that shape."""
        if self.built:
            return
        if self.input_spec is not None:
            check_input(self, _ShapeOnly(input_shape) if inputs is None else inputs)
        self.build(input_shape)
        self.built = True

    @property
    def output_shape(self):
        return _as_tuples(node_module.shapes_of(self._first_node("output shape").outputs))

    @property
    def input(self):
        """The KerasTensor(s) this layer was first called on (for feature extractors:
        `keras.Model(model.input, model.get_layer("block3").output)`)."""
        return self._first_node("input").call_args[0]

    @property
    def output(self):
        """The KerasTensor(s) the layer's first call on KerasTensors returned."""
        return self._first_node("output").outputs

    def _first_node(self, attribute):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on symbolic "
                                 f"inputs (keras.Input), so it has no defined {attribute}.")
        return self._inbound_nodes[0]

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (None for unknown dims).

        This default runs `call()` on placeholder values (see `compute_output_spec`);
        layers override it when they can say it without computing.
        """
        placeholders = node_module.outputs_for(input_shape, self._dtype)  # Recorded nowhere.
        self._build_from_shape(input_shape, placeholders)
        outputs = node_module.run_on_placeholders(self.call, (placeholders,), {})
        return node_module.shapes_of(outputs)

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The KerasTensors that calling the (built) layer on KerasTensors `inputs` gives.

        From `compute_output_shape` when the layer defines it (in the layer's dtype),
        else by running `call()` on placeholder values: ones, with each unknown dimension
        taken as 2 and then 3; output dimensions that differ between the two are unknown.
        """
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = node_module.shapes_of(inputs)
            return node_module.outputs_for(self.compute_output_shape(shapes), self._dtype)
        return node_module.run_on_placeholders(self.call, (inputs,) + args, kwargs)

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
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = _regularizers().serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from the dict `get_config()` returned, or Keras 3 wrote."""
        return cls(**layer_config.constructor_arguments(cls, config))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:  # Keep the shapes it is built for, for get_build_config.
            cls.build = layer_config.recording_build(cls.__dict__["build"])

    def get_build_config(self):
        """Keras 3's `{"input_shape": [None, 784]}` for a built layer, else None."""
        return layer_config.get_build_config(self)

    def build_from_config(self, config):
        """Builds the layer for the shapes of a `get_build_config()` result."""
        layer_config.build_from_config(self, config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name}>"


class _CallState(threading.local):
    """The outermost layer whose `call()` runs in this thread (None between calls)."""
    entry_layer = None


_call_state = _CallState()


def _regularizers():
    # Imported on first use: keras.regularizers imports the serialization helpers, which
    # import the layers package this module belongs to.
    from numpyflow.keras import regularizers
    return regularizers


def _flat_tensors(outputs):
    """The Tensors in a (possibly nested) list/tuple/dict of outputs."""
    if isinstance(outputs, tf.Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return [t for item in outputs for t in _flat_tensors(item)]
    return []


class _ShapeOnly:
    """Stands in for a tensor when only its shape is known (input_spec checks at build)."""

    def __init__(self, shape):
        self.shape = shape


def _as_tuples(shapes):
    """TensorShapes (in a structure) as tuples, as Keras reports `output_shape`."""
    if isinstance(shapes, tf.TensorShape):
        return tuple(shapes)
    if isinstance(shapes, dict):
        return {key: _as_tuples(value) for key, value in shapes.items()}
    return [_as_tuples(shape) for shape in shapes]


__all__ = ["Layer", "InputSpec"]
