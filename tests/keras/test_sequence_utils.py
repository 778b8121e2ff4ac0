"""`pad_sequences`, `timeseries_dataset_from_array` and `text_dataset_from_directory`,
against Keras 3's answers where they are deterministic
(`tests/fixtures/text_preprocessing/reference.json`, from
`tests/fixtures/make_text_preprocessing_fixtures.py`)."""

import json
import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.utils import (
    pad_sequences, text_dataset_from_directory, timeseries_dataset_from_array)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "text_preprocessing")
with open(os.path.join(FIXTURES, "reference.json"), encoding="utf-8") as _file:
    REFERENCE = json.load(_file)


@pytest.mark.parametrize("case", REFERENCE["pad_sequences"], ids=lambda c: json.dumps(c["kwargs"]))
def test_pad_sequences_matches_keras(case):
    kwargs = dict(case["kwargs"])
    if kwargs.get("dtype") == "object":
        kwargs["dtype"] = object
    out = pad_sequences(case["inputs"], **kwargs)
    assert out.tolist() == case["outputs"]
    assert str(out.dtype) == case["dtype"]


def test_pad_sequences_items_with_shape_and_errors():
    out = pad_sequences([np.ones((2, 3)), np.zeros((1, 3))], maxlen=3, dtype="float32")
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[1, :2], 0)
    np.testing.assert_array_equal(out[0, 0], 0)
    np.testing.assert_array_equal(out[0, 1:], 1)
    with pytest.raises(ValueError, match="not understood"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 2))])


@pytest.mark.parametrize("case", REFERENCE["timeseries"], ids=lambda c: json.dumps(c["kwargs"]))
def test_timeseries_matches_keras(case):
    ds = timeseries_dataset_from_array(np.arange(20), np.arange(100, 120), **case["kwargs"])
    got = [[x.numpy().tolist(), y.numpy().tolist()] for x, y in ds]
    assert got == case["batches"]


def test_timeseries_shuffle_without_targets_and_errors():
    data = np.arange(30, dtype=np.float32).reshape(15, 2)
    plain = [x.numpy() for x in timeseries_dataset_from_array(data, None, 4, batch_size=None)]
    assert len(plain) == 12 and plain[3].shape == (4, 2)
    shuffled = [x.numpy() for x in timeseries_dataset_from_array(
        data, None, 4, batch_size=None, shuffle=True, seed=3)]
    assert len(shuffled) == 12
    assert sorted(s[0, 0] for s in shuffled) == [p[0, 0] for p in plain]
    again = [x.numpy() for x in timeseries_dataset_from_array(
        data, None, 4, batch_size=None, shuffle=True, seed=3)]
    np.testing.assert_array_equal(np.stack(again), np.stack(shuffled))
    for kwargs in ({"sampling_rate": 0}, {"sequence_stride": 15}, {"start_index": 20},
                   {"start_index": 5, "end_index": 4}):
        with pytest.raises(ValueError):
            timeseries_dataset_from_array(data, None, 4, **kwargs)
    with pytest.raises(NotImplementedError, match="format"):
        timeseries_dataset_from_array(data, None, 4, format="grain")


def test_timeseries_feeds_fit():
    series = np.sin(np.arange(200) / 5).astype(np.float32)
    ds = timeseries_dataset_from_array(series[:-5, None], series[5:], sequence_length=5,
                                       batch_size=32)
    model = tf.keras.Sequential([tf.keras.Input((5, 1)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def _text_tree(root, counts):
    for label, count in counts.items():
        os.makedirs(root / label, exist_ok=True)
        for i in range(count):
            (root / label / f"{i}.txt").write_text(f"{label} text number {i}")
    (root / list(counts)[0] / "ignored.md").write_text("not a .txt")


def test_text_dataset_from_directory(tmp_path, capsys):
    _text_tree(tmp_path, {"neg": 3, "pos": 5})
    ds = text_dataset_from_directory(tmp_path, batch_size=4, shuffle=False, max_length=8)
    assert "Found 8 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    batches = list(ds)
    assert [len(b[1]) for b in batches] == [4, 4]
    texts = [t for b in batches for t in b[0].numpy().tolist()]
    labels = [int(v) for b in batches for v in b[1].numpy()]
    assert texts[0] == b"neg text" and labels == [0, 0, 0, 1, 1, 1, 1, 1]
    assert batches[0][0].dtype == tf.string

    train, val = text_dataset_from_directory(tmp_path, batch_size=None, seed=1,
                                             validation_split=0.25, subset="both",
                                             label_mode="categorical")
    train_texts = {x.numpy() for x, _ in train}
    val_items = [(x.numpy(), y.numpy().tolist()) for x, y in val]
    assert len(train_texts) == 6 and len(val_items) == 2
    assert not train_texts & {x for x, _ in val_items}
    assert all(sum(y) == 1.0 for _, y in val_items)

    only = text_dataset_from_directory(tmp_path, labels=None, class_names=None, batch_size=8,
                                       verbose=False)
    assert next(iter(only)).shape == (8,)
    with pytest.raises(ValueError, match="seed"):
        text_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="exactly 2"):
        _text_tree(tmp_path, {"third": 1})
        text_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)


@pytest.mark.parametrize("module", [
    "numpyflow.keras.utils.sequence_utils", "numpyflow.keras.utils.timeseries_dataset",
    "numpyflow.keras.utils.text_dataset", "numpyflow.keras.utils.dataset_utils",
    "numpyflow.keras.utils.rng_utils"])
def test_docstring_examples_run_and_leave_no_temporary_folders(module, tmp_path, monkeypatch):
    import doctest
    import importlib
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
    assert list(tmp_path.iterdir()) == []
