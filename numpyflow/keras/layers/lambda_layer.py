"""`Lambda` (a Python function as a layer) and `Identity` (returns its inputs)."""

import inspect
import json
import numbers

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


class Lambda(Layer):
    """Wraps a Python function of tensors as a layer.

    Good for small computations without weights inside a Sequential or functional model:
    `Lambda(lambda x: x ** 2)`. Anything with weights or state belongs in a `Layer` subclass.

    Saving: a Lambda's function is Python code, which a config cannot hold safely (Keras 3
    stores its bytecode and refuses to load it by default). Here `get_config()` names the
    function for inspection only, and `Lambda.from_config` always raises a ValueError;
    write a `Layer` subclass (with `get_config`) for a layer that must be saved and loaded.

    Args:
      function: The function to apply; its first argument is the input (a tensor or a list
        of tensors). If it takes a `training` argument, the layer's `training` flag is passed.
      output_shape: Optional. A tuple giving the output shape without the batch axis (the
        batch size is taken from the input), or a function from the full input shape to the
        full output shape. When omitted, the shape is found by running `function` on zeros.
      mask: Not supported (numpyflow has no masking yet); must be None.
      arguments: Optional dict of keyword arguments passed to `function`.

    >>> import numpyflow as tf
    >>> square = tf.keras.layers.Lambda(lambda x: x ** 2)
    >>> square(tf.constant([[1., 2., 3.]])).numpy()
    array([[1., 4., 9.]], dtype=float32)
    >>> square.compute_output_shape((None, 3))
    TensorShape([None, 3])
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda layer '{self.name}': `function` must be callable. "
                             f"Received: function={function!r}")
        if mask is not None:
            raise NotImplementedError(f"Lambda layer '{self.name}': the `mask` argument is not "
                                      f"supported (numpyflow has no masking yet). "
                                      f"Received: mask={mask!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f"Lambda layer '{self.name}': `arguments` must be a dict of "
                             f"keyword arguments for the function. Received: "
                             f"arguments={arguments!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = None
        # Not `_output_shape`: the base Layer keeps the shape it was built to under that name.
        self._output_shape_arg = self._check_output_shape(output_shape)
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # Some builtins have no signature.
            parameters = {}
        self._fn_expects_training_arg = "training" in parameters
        self._fn_expects_mask_arg = "mask" in parameters

    def _check_output_shape(self, output_shape):
        if output_shape is None or callable(output_shape):
            return output_shape
        if isinstance(output_shape, (list, tuple)):
            if all(_is_dim(d) for d in output_shape):
                return tuple(output_shape)
            if all(isinstance(s, (list, tuple)) and all(_is_dim(d) for d in s)
                   for s in output_shape):
                return [tuple(s) for s in output_shape]  # One shape per output.
        raise ValueError(f"Lambda layer '{self.name}': `output_shape` must be a tuple of "
                         f"dimensions (without the batch axis), a list of such tuples, or a "
                         f"function of the input shape. Received: output_shape={output_shape!r}")

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        if self._fn_expects_mask_arg:
            kwargs["mask"] = None
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        is_list = _is_shape_list(input_shape)
        shapes = [tf.TensorShape(s) for s in input_shape] if is_list else \
            [tf.TensorShape(input_shape)]
        if callable(self._output_shape_arg):
            result = self._output_shape_arg(input_shape)
            return [tf.TensorShape(s) for s in result] if _is_shape_list(result) else \
                tf.TensorShape(result)
        batch = shapes[0][0] if shapes[0].rank else None
        if self._output_shape_arg is not None:
            if isinstance(self._output_shape_arg, list):
                return [tf.TensorShape((batch,) + s) for s in self._output_shape_arg]
            return tf.TensorShape((batch,) + self._output_shape_arg)
        return self._infer_output_shape(shapes, is_list)

    def _infer_output_shape(self, shapes, is_list):
        """Runs the function on zeros; output dims that follow an unknown input dim are None.

        Unknown input dims are tried with two sizes, so that an output dim that changes with
        them (the batch, a variable length) is reported as None, not as the size tried.
        """
        probes = (2, 3) if any(None in s for s in shapes) else (None,)
        results = []
        for size in probes:
            inputs = [tf.zeros([size if d is None else d for d in s], dtype=self._dtype)
                      for s in shapes]
            try:
                outputs = self.call(inputs if is_list else inputs[0])
            except Exception as error:
                raise NotImplementedError(
                    f"Lambda layer '{self.name}': could not infer the shape of the output of "
                    f"its function by calling it on zeros of shape "
                    f"{[tuple(x.shape) for x in inputs]} ({type(error).__name__}: {error}). "
                    f"Please pass the `output_shape` argument.") from error
            multiple = isinstance(outputs, (list, tuple))
            results.append([tuple(o.shape) for o in (outputs if multiple else [outputs])])
        merged = [tf.TensorShape(a if len(a) != len(b) else
                                 [x if x == y else None for x, y in zip(a, b)])
                  for a, b in zip(results[0], results[-1])]
        return merged if multiple else merged[0]

    def get_config(self):
        """The config, for inspection: the function appears by name and cannot be loaded."""
        config = super().get_config()
        config["function"] = _function_name(self.function)
        if self._output_shape_arg is not None:
            shape = self._output_shape_arg
            config["output_shape"] = _function_name(shape) if callable(shape) else shape
        config["arguments"] = {key: _json_or_repr(value)
                               for key, value in self.arguments.items()}
        return config

    @classmethod
    def from_config(cls, config):
        """Always raises: a Lambda's function is code, and loading code from a config would
        run it. Use a `Layer` subclass (with `get_config`) for layers that must be reloaded."""
        raise ValueError(
            f"A `Lambda` layer cannot be created from a config: its function "
            f"({config.get('function')!r}) is Python code, and loading code from a config "
            f"would run it. Write a subclass of `keras.layers.Layer` that does the computation "
            f"in `call()` (and has a `get_config()`), or rebuild the Lambda in code.")


class Identity(Layer):
    """Returns its inputs unchanged (a placeholder, e.g. where a block is optional).

    >>> import numpyflow as tf
    >>> tf.keras.layers.Identity()(tf.constant([[1., 2.]])).numpy()
    array([[1., 2.]], dtype=float32)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        if _is_shape_list(input_shape):
            return [tf.TensorShape(s) for s in input_shape]
        return tf.TensorShape(input_shape)


def _is_dim(value):
    return value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                             and value >= 0)


def _is_shape_list(shape):
    """Whether `shape` is a list of shapes (several inputs) rather than one shape."""
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and \
        all(isinstance(s, (list, tuple)) for s in shape)


def _function_name(fn):
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{name}" if module else name


def _json_or_repr(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
