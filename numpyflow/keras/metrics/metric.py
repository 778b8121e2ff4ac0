"""The `keras.metrics.Metric` base class: state in Variables, `update_state`, `result`."""

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend


class Metric:
    """Base class of metrics: state in Variables, `update_state`, `result`, `reset_state`.

    Subclasses create their state with `add_weight` in `__init__` and implement
    `update_state` and `result`.

    Args:
      name: The metric's name; the snake-case class name by default.
      dtype: The dtype of its state and result (`keras.backend.floatx()` by default).

    >>> import numpyflow as tf
    >>> class CountPositives(tf.keras.metrics.Metric):
    ...     def __init__(self, name="count_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_weight(name="count", initializer="zeros")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         positive = tf.cast(tf.convert_to_tensor(y_pred) > 0., self.dtype)
    ...         self.count.assign_add(tf.reduce_sum(positive))
    ...     def result(self):
    ...         return tf.identity(self.count)
    >>> metric = CountPositives()
    >>> float(metric(None, [1., -2., 3.]))
    2.0
    """

    def __init__(self, name=None, dtype=None, **kwargs):
        self.name = name or backend.snake_case(type(self).__name__)
        self._dtype = tf.as_dtype(dtype or backend.floatx())
        self._variables = []
        self._initial_values = []

    @property
    def dtype(self):
        return self._dtype

    # -- state --------------------------------------------------------------------------
    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, **kwargs):
        """Creates a non-trainable state Variable that `reset_state` returns to its start.

        Args:
          name: The variable's name (named "<metric>/<name>").
          shape: Its shape (a scalar by default).
          initializer: "zeros", "ones", another `keras.initializers` name or instance, or a
            callable `(shape, dtype)`.
          dtype: Defaults to the metric's dtype.

        Returns:
          The `tf.Variable`.
        """
        if isinstance(name, (tuple, list)):  # Keras 3 takes `shape` first.
            name, shape = kwargs.pop("name", None), name
        dtype = tf.as_dtype(dtype or self._dtype)
        shape = tuple(() if shape is None else shape)
        initial_value = np.array(_initial_value(initializer, shape, dtype), dtype=dtype._np)
        variable = tf.Variable(initial_value, trainable=False, dtype=dtype,
                               name=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        self._initial_values.append(initial_value)
        return variable

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Keras 3's spelling of `add_weight`."""
        return self.add_weight(name=name, shape=shape, initializer=initializer, dtype=dtype)

    @property
    def variables(self):
        return list(self._variables)

    weights = non_trainable_weights = non_trainable_variables = variables

    @property
    def trainable_weights(self):
        return []

    trainable_variables = trainable_weights

    def reset_state(self):
        """Returns every state variable to its initial value."""
        for variable, value in zip(self._variables, self._initial_values):
            variable.assign(value)

    def reset_states(self):
        """Keras 2's name for `reset_state`."""
        self.reset_state()

    # -- the metric itself --------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        """Adds a batch to the state. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self):
        """The metric's value so far, a scalar Tensor. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def __call__(self, *args, **kwargs):
        """Updates the state with a batch and returns the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self._dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _initial_value(initializer, shape, dtype):
    if initializer is None or initializer == "zeros":
        return np.zeros(shape)
    if initializer == "ones":
        return np.ones(shape)
    if not callable(initializer):
        from numpyflow.keras import initializers
        initializer = initializers.get(initializer)
    return np.asarray(initializer(shape, dtype=dtype))
