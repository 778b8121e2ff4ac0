"""Mixing datasets: `choose_from_datasets` and `sample_from_datasets`."""

import numpy as np

from numpyflow.data import structure
from numpyflow.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, is_error
from numpyflow.data.errors import ElementError
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_spec import TensorSpec


def _common_spec(datasets, what):
    if not datasets:
        raise ValueError(f"{what}: `datasets` must be a non-empty list of datasets.")
    for ds in datasets:
        if not isinstance(ds, Dataset):
            raise TypeError(f"{what}: every member of `datasets` must be a Dataset; received "
                            f"{type(ds).__name__}.")
    spec = datasets[0].element_spec
    for ds in datasets[1:]:
        spec = structure.most_specific(spec, ds.element_spec, what)
    return spec


def _mix(datasets, choices, stop_on_empty_dataset, what):
    """Yields from `datasets[i]` for each index i that `choices()` yields."""
    iterators = [ds._iterate() for ds in datasets]
    live = [True] * len(datasets)
    try:
        for index in choices(live):
            if index is None:
                return
            if is_error(index):
                yield index
                continue
            if not 0 <= index < len(datasets):
                yield ElementError(InvalidArgumentError(
                    None, None, f"{what}: selector index {index} is out of range; there are "
                    f"{len(datasets)} datasets."))
                continue
            if not live[index]:
                continue
            try:
                yield next(iterators[index])
            except StopIteration:
                live[index] = False
                if stop_on_empty_dataset or not any(live):
                    return
    finally:
        for it in iterators:
            it.close()


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    datasets = list(datasets)
    spec = _common_spec(datasets, "choose_from_datasets")
    choice_spec = choice_dataset.element_spec
    # As TF: a spec compatible with a scalar int64 (an unknown rank is) is accepted.
    if not isinstance(choice_spec, TensorSpec) or not choice_spec.shape.is_compatible_with(()) \
            or choice_spec.dtype.name != "int64":
        raise TypeError(f"Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar "
                        f"`tf.int64` tensors but are {choice_spec}.")

    def choices(live):
        items = choice_dataset._iterate()
        try:
            for item in items:
                if not is_error(item) and item._value.ndim != 0:  # Possible at unknown rank.
                    item = ElementError(InvalidArgumentError(
                        None, None, f"choose_from_datasets: `choice_dataset` yielded a tensor "
                        f"of shape {list(item._value.shape)}; expected a scalar."))
                yield item if is_error(item) else int(item._value)
        finally:
            items.close()

    def iterate():
        return _mix(datasets, choices, stop_on_empty_dataset, "choose_from_datasets")
    return Dataset(iterate, spec, UNKNOWN_CARDINALITY, datasets + [choice_dataset])


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                         rerandomize_each_iteration=None):
    """Samples each element from `datasets[i]` with probability `weights[i]` (uniform by default).

    Exhausted datasets drop out (their weight is shared among the rest) unless
    `stop_on_empty_dataset=True`. Seeds follow `shuffle`'s rules.
    """
    from numpyflow.data.transformations import _seed_pair
    datasets = list(datasets)
    spec = _common_spec(datasets, "sample_from_datasets")
    if weights is None:
        probabilities = np.full(len(datasets), 1.0 / len(datasets))
    else:
        values = weights._value if isinstance(weights, Tensor) else weights
        if isinstance(values, Dataset):
            raise NotImplementedError("sample_from_datasets: a Dataset of weights is not "
                                      "supported; pass a list of floats.")
        probabilities = np.asarray(values, dtype=np.float64).reshape(-1)
        if probabilities.shape != (len(datasets),) or (probabilities < 0).any() \
                or probabilities.sum() <= 0:
            raise ValueError(f"sample_from_datasets: `weights` must hold {len(datasets)} "
                             f"non-negative numbers with a positive sum; received {values!r}.")
    base = _seed_pair(seed)
    passes = [0]

    def choices(live):
        rng = np.random.default_rng(base + (passes[0],))
        if rerandomize_each_iteration:
            passes[0] += 1
        while any(live):
            p = probabilities * np.asarray(live)
            if p.sum() <= 0:
                return
            yield int(rng.choice(len(p), p=p / p.sum()))

    def iterate():
        return _mix(datasets, choices, stop_on_empty_dataset, "sample_from_datasets")
    cards = [ds._cardinality for ds in datasets]
    card = INFINITE_CARDINALITY if all(c == INFINITE_CARDINALITY for c in cards) \
        else UNKNOWN_CARDINALITY
    return Dataset(iterate, spec, card, datasets)
