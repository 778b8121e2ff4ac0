"""`Model`: a layer with training — compile, fit, evaluate, predict, summary.

The training API (compile/fit/evaluate/predict and the step functions) comes from the
`Trainer` mixin in `numpyflow.keras.trainers.trainer`; this module holds what makes a
model a graph of layers. Subclass `Model` and override `call` (and, if needed,
`train_step`) for custom models.
"""

import numpy as np

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras import activations
from numpyflow.keras.layers import mask_propagation
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.trainers.trainer import Trainer
from numpyflow.keras.utils.summary_utils import print_summary


class Model(Trainer, Layer):
    """A trainable stack of layers. Subclass it and define `call`, or use `Sequential`.

    >>> import numpyflow as tf
    >>> class TwoLayer(tf.keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = tf.keras.layers.Dense(8, activation="relu")
    ...         self.out = tf.keras.layers.Dense(1)
    ...     def call(self, inputs):
    ...         return self.out(self.hidden(inputs))
    >>> model = TwoLayer()
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((4, 3)), np.zeros((4, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """

    def __new__(cls, *args, **kwargs):
        # keras.Model(inputs, outputs) makes a functional model, as in Keras.
        if cls is Model and _functional_arguments(args, kwargs):
            from numpyflow.keras.models.functional import Functional
            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if _functional_arguments(args, kwargs):
            # A subclass calling Model.__init__(inputs=..., outputs=...): as in Keras, it
            # becomes a subclass of Functional, with the graph's behaviour.
            from numpyflow.keras.models.functional import Functional, inject_functional
            if not isinstance(self, Functional):
                inject_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        super().__init__(**kwargs)  # Trainer, then Layer.
        self._is_graph_network = False  # Sequential and Functional models: a graph of layers.
        self._call_function = None      # model(x) compiled, for graphs of numpyflow's layers.
        self._plan_layers = None        # Every layer the compiled plans ran, and the sum of
        self._plan_version = None       # their versions then (see Layer._version).

    def _forget_stale_plans(self):
        """Drops the compiled plans if some layer changed since they were made.

        Every layer counts its own changes that plans depend on (`Layer._version`: a
        Sequential's add/pop, `trainable`); a model compares the sum over all its layers,
        nested ones included, with the sum its plans saw.
        """
        layers = self._plan_layers
        if layers is not None and sum(layer._version for layer in layers) == self._plan_version:
            return
        self._plan_layers = layers = self._flatten_layers()
        self._plan_version = sum(layer._version for layer in layers)
        self._forget_step_functions()

    def _forget_step_functions(self):
        super()._forget_step_functions()
        self._call_function = None

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        # A built graph of numpyflow's own layers runs no Python that depends on the data or
        # has side effects, so its call can be a compiled plan (tf.function): the same
        # results, without the per-layer and per-op Python (`model(x)` on one sample: ~3x
        # less). Under a GradientTape the function runs eagerly, so gradients flow.
        if (args or not self._is_graph_network or not self.built or
                (kwargs and (len(kwargs) > 1 or "training" not in kwargs)) or
                (type(inputs) is not tf.Tensor and type(inputs) is not np.ndarray and
                 _has_symbolic(inputs)) or mask_propagation.masks_of(inputs) is not None):
            return super().__call__(inputs, *args, **kwargs)
        self._forget_stale_plans()
        if not all(_is_builtin(layer) for layer in self._plan_layers):
            return super().__call__(inputs, *args, **kwargs)
        if self._call_function is None:
            self._call_function = tf.function(self._call_and_logits)
        outputs, softmax_logits, sigmoid_logits, masks = self._call_function(
            inputs, kwargs.get("training"))
        # Losses given an output compute from its logits (see activations.softmax).
        for output, softmax, sigmoid, mask in zip(nest.flatten(outputs), softmax_logits,
                                                  sigmoid_logits, masks):
            activations.remember_logits(output, softmax, sigmoid)
            if mask is not None:  # Keras masks (Embedding(mask_zero=True), ...) as eagerly.
                output._keras_mask = mask
        return outputs

    def _call_and_logits(self, inputs, training):
        outputs = Layer.__call__(self, inputs, training=training)
        flat = nest.flatten(outputs)
        return (outputs, [activations.logits_from_softmax(x) for x in flat],
                [activations.logits_from_sigmoid(x) for x in flat],
                [getattr(x, "_keras_mask", None) for x in flat])

    # -- inspection ---------------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._tracked_layers)

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` of `model.layers`."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints the layers, their output shapes and parameter counts, and the totals."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by "
                             "calling `build()` or by calling the model on a batch of data.")
        if show_trainable or layer_range is not None:
            raise NotImplementedError("summary(): `show_trainable` and `layer_range` are not "
                                      "supported by numpyflow yet.")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested)

    # -- saving -------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model to a `.keras` archive (Keras 3's format) or a legacy `.h5` file.

        See `keras.saving.save_model`.

        >>> import os, tempfile
        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        >>> model.save(os.path.join(tempfile.mkdtemp(), "model.keras"))
        """
        from numpyflow.keras.saving.saving_api import save_model
        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Writes the model for a deployment runtime.

        The default, `format="tf_saved_model"`, writes a TensorFlow SavedModel directory
        (frozen weights, a `"serving_default"` signature) for TF Serving,
        `tf.saved_model.load`, `TFLiteConverter.from_saved_model` and `tensorflowjs_converter`;
        `"tfjs"` writes the TensorFlow.js layers format that `tf.loadLayersModel` reads;
        `"tflite"`/`"litert"` a `.tflite` file, `"onnx"` an ONNX model. See
        `numpyflow.export.export_model`.

        >>> import os, tempfile
        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        >>> model.export(os.path.join(tempfile.mkdtemp(), "web"), format="tfjs", verbose=False)
        """
        from numpyflow.export import export_model
        export_model(self, filepath, format=format, verbose=verbose,
                     input_signature=input_signature, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Saves the variables to a `.weights.h5` file in Keras 3's layout.

        >>> import os, tempfile
        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.weights.h5")
        >>> model.save_weights(path)
        >>> model.load_weights(path)
        """
        from numpyflow.keras.saving.saving_api import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads variables from a `.weights.h5` or `.keras` file (all or nothing), or from a
        tf.keras 2.x `.h5` file (`by_name=True` and `skip_mismatch=True` allowed there)."""
        from numpyflow.keras.saving.saving_api import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's config as a JSON string (Keras 3's format); `**kwargs` go to
        `json.dumps`. Read it back with `keras.models.model_from_json`.

        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        >>> tf.keras.models.model_from_json(model.to_json()).count_params()
        8
        """
        from numpyflow.keras.saving.json_config import model_to_json
        return model_to_json(self, **kwargs)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model from `get_config()`'s dict: a functional config (layers, inputs and
        outputs) rebuilds the graph, as in Keras; other configs go to the constructor."""
        if {"layers", "input_layers", "output_layers"} <= set(config):
            from numpyflow.keras.models.functional import Functional
            from numpyflow.keras.models.functional_config import functional_from_config
            return functional_from_config(Functional if cls is Model else cls, config,
                                          custom_objects)
        return super().from_config(config)


def _functional_arguments(args, kwargs):
    return bool(args) or "inputs" in kwargs or "outputs" in kwargs


def _has_symbolic(inputs):
    from numpyflow.keras.graph.node import has_symbolic
    return has_symbolic(inputs)


def _is_builtin(layer):
    """Whether `layer`'s own code and the functions it calls are all numpyflow's."""
    if isinstance(layer, Model):
        return layer._is_graph_network and type(layer).__module__.startswith("numpyflow.")
    if getattr(layer, "activity_regularizer", None) is not None:
        return False  # Its loss must be computed anew on each call (`model.losses`).
    parts = [type(layer), getattr(layer, "activation", None), getattr(layer, "function", None)]
    return all(part is None or getattr(part, "__module__", "").startswith(("numpyflow.",
                                                                            "_operator"))
               for part in parts)
