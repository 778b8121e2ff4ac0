"""Checking and converting the data given to fit/evaluate/predict.

`x`, `y` and `sample_weight` may each be one array, a list/tuple of arrays or a dict of
arrays (models with several inputs or outputs). This is non-differentiable
bookkeeping, so it works on NumPy arrays directly; batches become Tensors when the model
is called on them. As in Keras, the inputs `x` may hold text (NumPy `str`/`bytes` arrays,
object arrays of strings, lists of strings): it becomes `tf.string` Tensors for
TextVectorization, StringLookup or feature columns. Targets and weights must be numbers.
"""

import numpy as np

import numpyflow as tf
from numpyflow.framework import nest


def is_nested(data):
    """Whether `data` is a structure of arrays rather than one array-like.

    A dict is a structure; a list or tuple is one when it holds arrays, Tensors or
    structures (`[x1, x2]`), not numbers (`[[1., 2.], [3., 4.]]` is one array).
    """
    if isinstance(data, dict):
        return True
    if isinstance(data, (list, tuple)) and data:
        first = data[0]
        return isinstance(first, (np.ndarray, tf.Tensor)) or is_nested(first)
    return False


def is_tf_dataset(data):
    """Whether `data` is a `tf.data.Dataset` (without importing `numpyflow.data` for arrays)."""
    return type(data).__module__.startswith("numpyflow.data") and hasattr(data, "cardinality")


def is_dataset_like(data):
    """Datasets and generators: they batch themselves, so the array adapter cannot take them."""
    return hasattr(data, "__next__") or type(data).__name__ == "Dataset"


def to_arrays(data, argument):
    """`data` with each leaf a NumPy array (views where possible); None stays None."""
    if type(data) is np.ndarray and data.ndim and data.dtype.kind in _NUMERIC_KINDS:
        return data  # The common case first: predict(x) on one sample runs this too.
    if data is None:
        return None
    if is_dataset_like(data):
        raise NotImplementedError(f"`{argument}`: datasets and generators are not supported "
                                  f"yet; pass NumPy arrays or Tensors.")
    if is_nested(data):
        if isinstance(data, dict):
            return {key: to_arrays(value, f"{argument}[{key!r}]") for key, value in data.items()}
        return type(data)(to_arrays(value, f"{argument}[{index}]")
                          for index, value in enumerate(data))
    array = data if type(data) is np.ndarray else _as_array(data, argument)
    if array.dtype.kind not in _NUMERIC_KINDS and not (
            _is_input_argument(argument) and _holds_strings(array)):
        raise ValueError(_invalid_dtype_message(array, argument))
    if array.ndim == 0:
        raise ValueError(f"`{argument}` must have a batch dimension (one row per sample); "
                         f"received a scalar.")
    return array


# Booleans, signed and unsigned integers, floats: what a model's inputs and targets can hold.
_NUMERIC_KINDS = "biuf"


def _is_input_argument(argument):
    """Whether `argument` names the model's inputs (`x`, or one of them: `x['text']`)."""
    return argument == "x" or argument.startswith("x[")


def _holds_strings(array):
    """Whether `array` holds text: a `str`/`bytes` array, or an object array of strings."""
    if array.dtype.kind in "US":
        return True
    return array.dtype == object and array.size > 0 and all(
        isinstance(value, (str, bytes)) for value in array.flat)


def _as_array(data, argument):
    """`np.asarray(data)`, with Keras's error naming the argument when `data` is ragged."""
    try:
        return np.asarray(data)
    except ValueError as error:
        if "inhomogeneous" not in str(error):
            raise
        text = repr(data)
        text = text if len(text) <= 80 else text[:80] + "..."
        raise ValueError(f"Unrecognized data type: {argument}={text} (of type {type(data)}): "
                         f"its rows have different lengths, so it is not one array. Pad them "
                         f"to one length first, or pass NumPy arrays.") from None


def _invalid_dtype_message(array, argument):
    if array.dtype.kind in "US" or _holds_strings(array):
        what = "strings"
        hint = " Turn text into numbers first (e.g. a vocabulary lookup)."
    elif array.dtype == object:
        what = "Python objects (mixed types, None, or rows of different lengths)"
        hint = (" Convert it to a NumPy array of one numeric dtype first." if not
                _is_input_argument(argument) else " Inputs may be numbers, booleans or "
                "strings; convert it to an array of one of them first.")
    else:
        what, hint = f"values of kind {array.dtype.kind!r}", ""
    return (f"Invalid dtype: {array.dtype} for `{argument}`: it holds {what}. Models take "
            f"arrays of numbers or booleans.{hint}")


def check_data_cardinality(data, labels=("x", "y", "sample_weight")):
    """Raises ValueError, as Keras, unless every array in `data` has as many samples.

    Args:
      data: A tuple such as `(x, y)` of structures of arrays (entries may be None).
      labels: What to call each entry in the message.

    Returns:
      The number of samples.
    """
    sizes = set()
    for entry in data:
        if type(entry) is np.ndarray:  # No structure to walk: the common case.
            sizes.add(len(entry))
        elif entry is not None:
            sizes.update(len(array) for array in nest.flatten(entry))
    if len(sizes) > 1:
        lines = []
        for label, entry in zip(labels, data):
            if entry is not None:
                counts = ", ".join(str(len(array)) for array in nest.flatten(entry))
                lines.append(f"  {label} sizes: {counts}")
        raise ValueError("Data cardinality is ambiguous:\n" + "\n".join(lines) +
                         "\nMake sure all arrays contain the same number of samples.")
    return sizes.pop() if sizes else 0


def check_integer(value, argument, minimum=None):
    """`value` as an int: TypeError unless it is an integer, ValueError if below `minimum`.

    >>> check_integer(3, "epochs", 0)
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{argument}` must be an integer; received {argument}={value!r} (of "
                        f"type {type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{argument}` must be an integer >= {minimum}; received "
                         f"{argument}={value!r}.")
    return int(value)


def check_batch_size(batch_size, argument="batch_size"):
    """None, or `batch_size` checked to be a positive integer."""
    return None if batch_size is None else check_integer(batch_size, argument, 1)


def check_steps(steps, argument):
    """None, or `steps` checked to be a positive integer."""
    return None if steps is None else check_integer(steps, argument, 1)


def slice_structure(data, start, stop):
    """Rows `start:stop` of every array in `data` (a tuple of structures; None stays None)."""
    return nest.map_structure(lambda array: None if array is None else array[start:stop], data)


def train_validation_split(data, validation_split):
    """Splits `data = (x, y)` into training and validation parts, as Keras does.

    The validation part is the last `validation_split` fraction of the samples, taken
    before any shuffling.
    """
    if isinstance(validation_split, bool) or not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be in [0, 1); received "
                         f"validation_split={validation_split}.")
    num_samples = check_data_cardinality(data)
    split_at = int(num_samples * (1. - validation_split))
    if split_at == 0 or split_at == num_samples:
        raise ValueError(f"Training data has {num_samples} samples, too few to set aside "
                         f"validation_split={validation_split}.")
    return slice_structure(data, 0, split_at), slice_structure(data, split_at, num_samples)


def unpack_validation_data(validation_data):
    """`(x_val, y_val, val_sample_weight)` from fit's `validation_data` argument (a dataset
    holds all three itself: `(dataset, None, None)`)."""
    if is_tf_dataset(validation_data):
        return validation_data, None, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"val_sample_weight); received {type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}"
                            if isinstance(validation_data, (tuple, list)) else "") + ".")
    x, y, *rest = validation_data
    return x, y, (rest[0] if rest else None)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs one batch as Keras does: `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    >>> pack_x_y_sample_weight([1.], [2.])
    ([1.0], [2.0])
    """
    if y is None:
        # A tuple or list `x` would be read as `(x, y)`: wrap it, as Keras does.
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Unpacks a batch into `(x, y, sample_weight)`, None for the parts it lacks.

    The idiom of custom `train_step`s (`keras.utils.unpack_x_y_sample_weight`): a tuple
    holds `(x,)`, `(x, y)` or `(x, y, sample_weight)`; anything else is `x` alone.

    >>> import numpy as np
    >>> x, y, sample_weight = unpack_x_y_sample_weight((np.ones((2, 1)), np.zeros(2)))
    >>> y.shape, sample_weight
    ((2,), None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`; received a tuple of length {len(data)}.")


def check_class_weight(class_weight, y):
    """Raises unless `class_weight` is a dict of class index -> weight for one output."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class indices to weights, "
                        f"e.g. {{0: 1., 1: 5.}}; received class_weight={class_weight!r} (of "
                        f"type {type(class_weight).__name__}).")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"`class_weight` keys must be integer class indices; received "
                             f"the key {key!r} in class_weight={class_weight!r}.")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"`class_weight` values must be numbers; received "
                             f"{value!r} for class {key} in class_weight={class_weight!r}.")
    if is_nested(y):
        raise ValueError("`class_weight` is only supported for Models with a single output.")


def class_weight_to_sample_weights(y, class_weight):
    """One weight per sample: `class_weight[class of the sample]` (1 for unlisted classes).

    The class is the label itself for integer labels (shape `(N,)` or `(N, 1)`, rounded as
    Keras rounds them), the argmax for one-hot or probability labels (`(N, C)`).

    >>> import numpy as np
    >>> class_weight_to_sample_weights(np.array([0, 2, 1]), {0: 1., 1: 2., 2: 0.5})
    array([1. , 0.5, 2. ], dtype=float32)
    """
    labels = np.asarray(y)
    given_shape = labels.shape
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    if labels.ndim != 1:
        raise ValueError(f"`class_weight` needs one class per sample: `y` of shape (N,), (N, 1) "
                         f"or one-hot (N, num_classes); received y.shape={given_shape}.")
    labels = np.round(labels).astype(np.int64)
    if len(labels) and labels.min() < 0:
        raise ValueError(f"`class_weight` needs non-negative class labels; `y` holds "
                         f"{int(labels.min())}.")
    size = max([int(labels.max(initial=0))] + [int(key) for key in class_weight]) + 1
    table = np.ones(size, dtype=np.float32)
    for index, weight in class_weight.items():
        if index >= 0:
            table[index] = weight
    return table[labels]
