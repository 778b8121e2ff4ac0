"""`tf.keras.preprocessing.sequence`: TF 2.x's home of `pad_sequences`.

    >>> import numpyflow as tf
    >>> tf.keras.preprocessing.sequence.pad_sequences([[1, 2, 3]], maxlen=2).tolist()
    [[2, 3]]
"""

from numpyflow.keras.utils.sequence_utils import pad_sequences  # noqa: F401

__all__ = ["pad_sequences"]
