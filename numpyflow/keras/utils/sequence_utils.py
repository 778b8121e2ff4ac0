"""`keras.utils.pad_sequences`: a list of sequences as one padded NumPy array."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (or truncates) sequences to a common length, as Keras does.

    Args:
      sequences: A list of sequences (lists or arrays; items may be arrays of one shape).
      maxlen: The output length (default: the longest sequence).
      dtype: The output dtype ("int32"; `object` for variable-length strings).
      padding: "pre" or "post": where padding goes.
      truncating: "pre" or "post": which end of a longer sequence is cut.
      value: The padding value.

    Returns:
      An array of shape (len(sequences), maxlen) + the items' shape.

    >>> pad_sequences([[1, 2, 3], [4, 5]])
    array([[1, 2, 3],
           [0, 4, 5]], dtype=int32)
    >>> pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post")
    array([[1, 2],
           [4, 5]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding type "{padding}" not understood (expected '
                         f'"pre" or "post").')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating type "{truncating}" not understood '
                         f'(expected "pre" or "post").')
    lengths = []
    sample_shape = None
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables. Found "
                             f"non-iterable: {sequence!r}") from None
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    is_text_dtype = dtype is not object and np.dtype(dtype).kind in "SU"
    if isinstance(value, str) and dtype is not object and not is_text_dtype:
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}. You should set `dtype=object` for variable length "
                         f"strings.")
    out = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: shape of sample {kept.shape[1:]} of sequence at "
                             f"position {index} is different from expected shape "
                             f"{tuple(sample_shape)}")
        if padding == "post":
            out[index, :len(kept)] = kept
        else:
            out[index, -len(kept):] = kept
    return out
