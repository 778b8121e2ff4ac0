"""The string steps of `TextVectorization`, on NumPy object arrays of `bytes`, with
numpyflow's `tf.strings` ops (TensorFlow's semantics): ASCII-only `lower`, Keras's
punctuation regex with `regex_replace`, `split` on whitespace, `unicode_split` into UTF-8
characters and `ngrams` joined by " ". Split results come back as one array per row.
"""

import numpy as np

import numpyflow as tf

# Keras's punctuation class for "strip_punctuation" (ASCII punctuation).
PUNCTUATION_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def as_bytes_array(array, encoding="utf-8"):
    """An object array of `bytes` for an array of str, bytes or objects."""
    array = np.asarray(array)
    out = np.empty(array.shape, dtype=object)
    flat = out.reshape(-1)
    for i, value in enumerate(array.reshape(-1).tolist()):
        if isinstance(value, bytes):
            flat[i] = value
        elif isinstance(value, str):
            flat[i] = value.encode(encoding)
        else:
            raise TypeError(f"Expected strings, received {value!r} of type "
                            f"{type(value).__name__}.")
    return out


def _strings(array):
    return tf.constant(array, dtype=tf.string)


def _objects(tensor):
    return np.asarray(tensor.numpy(), dtype=object)


def lower(strings):
    """ASCII lowercasing of each string (`tf.strings.lower` without an encoding)."""
    return _objects(tf.strings.lower(_strings(strings)))


def strip_punctuation(strings):
    """Each string without ASCII punctuation (Keras's regex)."""
    return _objects(tf.strings.regex_replace(_strings(strings), PUNCTUATION_REGEX, ""))


def rows_of(value):
    """A split result (RaggedTensor, Tensor or nested list) as one list of tokens per row."""
    if isinstance(value, tf.RaggedTensor):
        return value.to_list()
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    return [list(np.asarray(row, dtype=object).reshape(-1)) for row in value]


def split_whitespace(strings):
    """The tokens of each string of a 1D array, split on runs of ASCII whitespace."""
    return rows_of(tf.strings.split(_strings(strings)))


def split_characters(strings):
    """The UTF-8 characters of each string of a 1D array."""
    return rows_of(tf.strings.unicode_split(_strings(strings), "UTF-8"))


def ngrams(rows, widths):
    """Each row's n-grams for each width in `widths`, in that order, joined by " "."""
    lengths = [len(row) for row in rows]
    flat = [token for row in rows for token in row]
    values = np.empty(len(flat), dtype=object)
    values[:] = flat
    ragged = tf.RaggedTensor.from_row_lengths(_strings(values), lengths)
    return rows_of(tf.strings.ngrams(ragged, ngram_width=widths, separator=" "))
