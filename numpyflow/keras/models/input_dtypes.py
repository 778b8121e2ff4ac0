"""Converting the values a model is called on to the dtypes of its `Input`s, as Keras 3 does.

A Sequential or functional model takes each input as its `keras.Input` declares it
(Keras 3's `Functional._standardize_inputs`): raw uint8 images given to a float32 input
become float32, int64 ids given to an `Input(dtype="int32")` become int32 and stay
integers (an Embedding or a feature column gets ids, not floats). Text can only go to a
string input: casting between strings and numbers is an error naming the model and input.
"""

import numpy as np

import numpyflow as tf


def convert_to_input_dtype(value, dtype, model_name, input_name):
    """`value` (a Tensor, array or nested list) as a Tensor of the input's `dtype`.

    Args:
      value: What the model was called on for this input.
      dtype: The input's `tf.DType`.
      model_name: The model's name, for error messages.
      input_name: The input's name, for error messages.

    Raises:
      ValueError: when strings go to a numeric input or numbers to a string input.

    >>> import numpy as np
    >>> convert_to_input_dtype(np.array([[1, 2]], np.int64), tf.int32, "model", "ids").dtype
    tf.int32
    """
    if type(value) is tf.Tensor and value.dtype is dtype:
        return value
    mask = getattr(value, "_keras_mask", None)
    tensor = value if isinstance(value, tf.Tensor) else tf.convert_to_tensor(
        value if isinstance(value, np.ndarray) else np.asarray(value))
    if tensor.dtype is dtype:
        return tensor
    if (tensor.dtype is tf.string) != (dtype is tf.string):
        received = "strings (tf.string)" if tensor.dtype is tf.string else tensor.dtype.name
        hint = (" Turn text into numbers inside the model (TextVectorization, StringLookup) "
                "and declare its input with keras.Input(..., dtype='string')."
                if tensor.dtype is tf.string else "")
        raise ValueError(f"Model '{model_name}': input '{input_name}' expects {dtype.name} "
                         f"values, but it received {received}.{hint}")
    tensor = tf.cast(tensor, dtype)
    if mask is not None:  # The cast tensor describes the same steps.
        tensor._keras_mask = mask
    return tensor
