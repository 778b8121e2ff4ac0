"""`keras.utils.timeseries_dataset_from_array`: sliding windows over an array as a
`tf.data.Dataset`, as Keras 3 builds them.

The windows, their targets and (with `shuffle` and a `seed`) the order of the windows'
start positions are Keras's; the second, buffered shuffle Keras applies before batching
uses numpyflow's `Dataset.shuffle`, so shuffled batches differ from TensorFlow's.
"""

import numpy as np

import numpyflow as tf


def _check_arguments(data, sequence_length, sequence_stride, sampling_rate, start_index,
                     end_index):
    n = len(data)
    if sequence_length is None or sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be higher than 0. Received: "
                         f"sequence_length={sequence_length}")
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index}")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {n}")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """A dataset of sliding windows over `data` (and their `targets`).

    Window `i` starts at `start_index + i * sequence_stride` and takes `sequence_length`
    steps `sampling_rate` apart; its target is `targets[start_index + i * sequence_stride]`.

    Args:
      data: An array or tensor of timesteps (axis 0 is time).
      targets: Targets aligned with `data` (or None: the dataset yields windows only).
      sequence_length: Steps per window.
      sequence_stride: Steps between the starts of consecutive windows.
      sampling_rate: Steps between the samples of one window.
      batch_size: Windows per batch (None: unbatched).
      shuffle: Whether to shuffle the windows.
      seed: The shuffling seed.
      start_index, end_index: Use only `data[start_index:end_index]`.
      format: "tf" (the only one numpyflow has).

    >>> import numpy as np
    >>> ds = timeseries_dataset_from_array(np.arange(6), None, sequence_length=3, batch_size=2)
    >>> [batch.numpy().tolist() for batch in ds]
    [[[0, 1, 2], [1, 2, 3]], [[2, 3, 4], [3, 4, 5]]]
    """
    if format != "tf":
        raise NotImplementedError(f"timeseries_dataset_from_array: only format='tf' is "
                                  f"supported by numpyflow. Received: format={format!r}")
    data = data.numpy() if isinstance(data, tf.Tensor) else np.asarray(data)
    _check_arguments(data, sequence_length, sequence_stride, sampling_rate, start_index,
                     end_index)
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = targets.numpy() if isinstance(targets, tf.Tensor) else np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    index_dtype = np.int32 if num_seqs < 2**31 - 1 else np.int64
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=index_dtype)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    window = np.arange(sequence_length) * sampling_rate
    data_slice = data[start_index:end_index]
    target_slice = None if targets is None else targets[start_index:end_index]

    def window_at(position):
        # Gathered when each element is produced, so the windows are never all in memory.
        sequence = tf.constant(data_slice[int(position) + window])
        if target_slice is None:
            return sequence
        return sequence, tf.constant(target_slice[int(position)])

    dataset = tf.data.Dataset.from_tensor_slices(starts).map(window_at)
    if batch_size is not None:
        if shuffle:
            dataset = dataset.shuffle(buffer_size=batch_size * 8, seed=seed)
        dataset = dataset.batch(batch_size)
    elif shuffle:
        dataset = dataset.shuffle(buffer_size=1024, seed=seed)
    return dataset
