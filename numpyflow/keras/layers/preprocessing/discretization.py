"""`Discretization`: buckets continuous values by boundaries, given or learned by `adapt`.

`adapt` keeps Keras 3's approximate quantile summary (a sorted list of (value, weight)
pairs compressed to about 1/epsilon entries), so the boundaries it learns are Keras's.
"""

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.preprocessing.category_encoding import (
    check_not_sparse, check_output_mode, encode_categorical, encoded_shape)


def _empty_summary():
    return np.zeros((2, 0), dtype=np.float32)


def _summarize(values, epsilon):
    """A (2, n) summary of `values`: every step-th sorted value, each weighing `step`."""
    values = np.sort(np.reshape(values, -1))
    step = max(values.size * epsilon, 1)  # About 1/epsilon entries.
    kept = values[int(step - 1)::int(step)]
    return np.stack([kept, np.full_like(kept, step)])


def _compress(summary, epsilon):
    """The summary resampled at the quantiles epsilon, 2*epsilon, ..., 1 (unless small)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    quantiles = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = np.cumsum(summary[1])
    fractions = cumulative / cumulative[-1]
    values = np.interp(quantiles, fractions, summary[0])
    at_quantiles = np.interp(quantiles, fractions, cumulative)
    weights = np.diff(at_quantiles, prepend=0.0)
    return np.stack([values, weights]).astype(np.float32)


def _merge(first, second, epsilon):
    merged = np.concatenate([first, second], axis=1)
    merged = merged[:, np.argsort(merged[0])]
    return _compress(merged, epsilon)


class Discretization(Layer):
    """Maps continuous values to the index of their bin.

    Bin `i` holds `bin_boundaries[i-1] <= x < bin_boundaries[i]` (bin 0 is below the first
    boundary, the last bin above the last; NaN goes to the last bin, as in Keras).

    Args:
      bin_boundaries: Sorted boundaries; or None with `num_bins` and `adapt()`.
      num_bins: The number of bins `adapt()` makes (at its quantiles).
      epsilon: The error tolerance of `adapt()`'s approximate quantiles (0.01).
      output_mode: "int" (bin indices, int32), "one_hot", "multi_hot" or "count".
      sparse: Must be False.

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Discretization(bin_boundaries=[0., 1., 2.])
    >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]])).numpy()
    array([[0, 2, 3, 1]], dtype=int32)
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        check_not_sparse(self.name, sparse)
        self.output_mode = check_output_mode(self.name, output_mode,
                                             ("int", "one_hot", "multi_hot", "count"))
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"Discretization layer '{self.name}': `num_bins` must be greater "
                             f"than or equal to 0. Received: num_bins={num_bins}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Discretization layer '{self.name}': both `num_bins` and "
                             f"`bin_boundaries` should not be set. Received: num_bins="
                             f"{num_bins} and bin_boundaries={bin_boundaries}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError(f"Discretization layer '{self.name}': you need to set either "
                             f"`num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > a for a, b in zip(bin_boundaries[1:], bin_boundaries)):
                raise ValueError(f"Discretization layer '{self.name}': `bin_boundaries` must "
                                 f"be sorted. Received: bin_boundaries={bin_boundaries}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.sparse = False
        self.summary = None if bin_boundaries else _empty_summary()

    # -- adapt -----------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learns `num_bins` bins at the quantiles of `data` (an array or tensor, or a
        `tf.data.Dataset`, list or other iterable of batches; `steps` batches at most)."""
        if self.num_bins is None:
            raise ValueError(f"Discretization layer '{self.name}': cannot adapt a layer that "
                             f"has been initialized with `bin_boundaries`; use `num_bins` "
                             f"instead.")
        self.reset_state()
        for batch in _batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        if isinstance(data, tf.Tensor):
            data = data.numpy()
        data = np.asarray(data).astype(np.float32)
        self.summary = _merge(_summarize(data, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = _empty_summary()

    # -- call ------------------------------------------------------------------------------
    def _convert_inputs(self, inputs):
        return inputs if isinstance(inputs, tf.Tensor) else tf.convert_to_tensor(inputs)

    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Discretization layer '{self.name}' has no bins: pass the "
                             f"`bin_boundaries` argument at construction time or call "
                             f"`adapt(data)` before using it.")
        values = inputs.numpy().astype(np.float64)
        indices = np.digitize(values, np.asarray(self.bin_boundaries, np.float64))
        if self.output_mode == "int":
            return tf.constant(indices.astype(np.int32))
        return encode_categorical(indices, self.output_mode, self._depth(), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        return tf.TensorShape(encoded_shape(shape, self.output_mode, self._depth()))

    def compute_output_spec(self, inputs, *args, **kwargs):
        from numpyflow.keras.graph import node as node_module
        dtype = "int32" if self.output_mode == "int" else self.compute_dtype
        return node_module.outputs_for(self.compute_output_shape(inputs.shape), dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # An adapted layer: keep both, as Keras does.
            boundaries = config.pop("bin_boundaries")
            layer = super().from_config(config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return super().from_config(config)


def _batches(data, steps):
    """The batches `adapt` reads from `data`: the whole array, or each element of a
    dataset or iterable (`steps` at most)."""
    # As Keras's Discretization.adapt: only arrays and tensors are one batch; a list is
    # read as a sequence of batches.
    if isinstance(data, (np.ndarray, tf.Tensor)) or not hasattr(data, "__iter__"):
        yield data
        return
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        yield batch
