"""The shuffled batches of `ArrayDataAdapter`: sorted in one call, gathered with `take`.

They must be exactly the batches of the plain definition: the seeded permutation cut
into consecutive pieces, each sorted, the rows picked by fancy indexing.
"""

import numpy as np
import pytest

from numpyflow.keras.trainers.data_adapters.array_data_adapter import ArrayDataAdapter


@pytest.mark.parametrize("samples, batch_size", [(70, 8), (64, 8), (5, 8), (9, 1)])
@pytest.mark.parametrize("weights", [False, True])
def test_shuffled_batches_are_the_sorted_pieces_of_the_permutation(samples, batch_size,
                                                                     weights):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(samples, 3, 2)).astype(np.float32)
    y = rng.integers(0, 5, samples)
    w = rng.random(samples)
    data = (x, y, w) if weights else (x, y)
    adapter = ArrayDataAdapter(*data, batch_size=batch_size, shuffle=True, shuffle_seed=7)
    permutation = np.random.default_rng(7).permutation(samples)  # The adapter's first draw.
    batches = list(adapter.get_numpy_iterator())
    assert len(batches) == -(-samples // batch_size)
    for number, batch in enumerate(batches):
        index = np.sort(permutation[number * batch_size:(number + 1) * batch_size])
        assert len(batch) == len(data)
        for got, array in zip(batch, data):
            assert got.flags.c_contiguous and got.dtype == array.dtype
            np.testing.assert_array_equal(got, array[index])


def test_unshuffled_batches_stay_views():
    x = np.arange(20.).reshape(10, 2)
    batches = list(ArrayDataAdapter(x, np.arange(10), batch_size=4).get_numpy_iterator())
    assert all(np.shares_memory(batch[0], x) for batch in batches)
