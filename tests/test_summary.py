"""`tf.summary`: event files read back with TensorBoard's own readers, compared with TF 2.21's."""

import glob
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf

pytest.importorskip("tensorboard", reason="tf.summary needs the tensorboard package")
from tensorboard.backend.event_processing import event_accumulator, event_file_loader  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from numpyflow.summary import summary_ops  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
import make_tensorboard_fixtures as fixtures  # noqa: E402


def read_events(logdir):
    """{tag: [(step, value as NumPy, serialized metadata)]} from every event file in logdir."""
    found = {}
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(
                    (event.step, tensor_util.make_ndarray(value.tensor),
                     value.metadata.SerializeToString()))
    return found


def decode_images(blob_sequence):
    from PIL import Image
    return list(blob_sequence[:2]) + [np.asarray(Image.open(io.BytesIO(png)))
                                      for png in blob_sequence[2:]]


@pytest.fixture(autouse=True)
def no_default_step():
    tf.summary.experimental.set_step(None)
    yield
    tf.summary.experimental.set_step(None)


def test_same_summaries_as_tensorflow_2_21(tmp_path):
    fixtures.write_summaries(tf, str(tmp_path))
    ours = read_events(str(tmp_path))
    theirs = read_events(os.path.join(FIXTURES, "tensorboard", "tf221_summary"))
    assert sorted(ours) == sorted(theirs) == [
        "histogram", "histogram_empty", "histogram_one_value", "image_float", "image_uint8",
        "scalar", "text"]
    for tag in theirs:
        [(step, expected, metadata)] = theirs[tag]
        [(our_step, value, our_metadata)] = ours[tag]
        assert our_step == step, tag
        assert our_metadata == metadata, tag  # Plugin name, content and description.
        if tag.startswith("image"):
            for got, want in zip(decode_images(value), decode_images(expected)):
                np.testing.assert_array_equal(got, want, err_msg=tag)
        else:
            assert value.dtype == expected.dtype and value.shape == expected.shape, tag
            np.testing.assert_array_equal(value, expected, err_msg=tag)


def test_scalars_read_back_by_event_accumulator(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(3):
            assert tf.summary.scalar("loss", tf.constant(1. / (step + 1)), step=step) is True
    writer.close()
    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    events = accumulator.Tensors("loss")
    assert [e.step for e in events] == [0, 1, 2]
    np.testing.assert_allclose([tensor_util.make_ndarray(e.tensor_proto) for e in events],
                               [1., .5, 1. / 3], rtol=1e-7)
    [path] = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert path.endswith(".v2")


def test_histogram_buckets_by_hand():
    table = summary_ops.histogram_buckets(np.array([0., 1., 1., 4.]), 4)
    np.testing.assert_array_equal(table, [[0, 1, 1], [1, 2, 2], [2, 3, 0], [3, 4, 1]])
    assert summary_ops.histogram_buckets(np.array([]), 0).shape == (0, 3)


def test_default_step_and_its_scope(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("loss", 1.)
        tf.summary.experimental.set_step(7)
        assert tf.summary.experimental.get_step() == 7
        tf.summary.scalar("a", 1.)
        with writer.as_default(step=9):
            tf.summary.scalar("b", 2.)
        assert tf.summary.experimental.get_step() == 7  # Restored on exit.
        step = tf.Variable(0, dtype=tf.int64)
        tf.summary.experimental.set_step(step)
        step.assign(11)  # A Variable step is read when the summary is written.
        tf.summary.text("c", "hello")
        with pytest.raises(ValueError, match="scalar integer; received step=0.5"):
            tf.summary.scalar("d", 1., step=0.5)
    found = read_events(str(tmp_path))
    assert [(tag, found[tag][0][0]) for tag in "abc"] == [("a", 7), ("b", 9), ("c", 11)]


def test_nothing_recorded_without_writer_noop_writer_or_record_if(tmp_path):
    assert tf.summary.scalar("loss", 1., step=0) is False  # No default writer.
    with tf.summary.create_noop_writer().as_default(step=0):
        assert tf.summary.scalar("loss", 1.) is False
        assert not tf.summary.should_record_summaries()
    assert isinstance(tf.summary.create_file_writer(None), tf.summary.SummaryWriter)
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        with tf.summary.record_if(False):
            assert tf.summary.scalar("skipped", 1.) is False
        calls = iter([True, False])
        with tf.summary.record_if(lambda: next(calls)):
            assert tf.summary.scalar("kept", 1.) is True
            assert tf.summary.scalar("dropped", 1.) is False
        assert tf.summary.should_record_summaries()
    assert sorted(read_events(str(tmp_path))) == ["kept"]


def test_closed_writer_and_flush(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "run"), max_queue=100,
                                           flush_millis=10 ** 7, filename_suffix=".mine")
    with writer.as_default(step=1):
        tf.summary.scalar("loss", 1.)
    # as_default flushes on exit, as TF 2 does: readable with the writer still open.
    assert list(read_events(str(tmp_path / "run"))) == ["loss"]
    tf.summary.flush(writer)
    writer.close()
    writer.close()  # Idempotent.
    with pytest.raises(RuntimeError, match="already closed"):
        writer.as_default()
    assert glob.glob(str(tmp_path / "run" / "events.out.tfevents.*.mine"))


@pytest.mark.parametrize("call, error, message", [
    (lambda: tf.summary.scalar("s", [1., 2.], step=0), ValueError, r"must be a scalar.*\(2,\)"),
    (lambda: tf.summary.scalar("s", "x", step=0), ValueError, "must be a number"),
    (lambda: tf.summary.scalar(3, 1., step=0), TypeError, "name must be a non-empty string"),
    (lambda: tf.summary.histogram("h", ["a"], step=0), ValueError, "must be numbers"),
    (lambda: tf.summary.histogram("h", [1.], step=0, buckets=2.5), TypeError, "buckets"),
    (lambda: tf.summary.image("i", np.zeros((8, 8, 3)), step=0), ValueError,
     r"\[k, height, width, channels\].*\(8, 8, 3\)"),
    (lambda: tf.summary.image("i", np.zeros((1, 8, 8, 2)), step=0), ValueError, "channels"),
    (lambda: tf.summary.image("i", np.zeros((1, 8, 8, 1), np.int32), step=0), TypeError,
     "int32"),
    (lambda: tf.summary.text("t", 3.0, step=0), TypeError, "must be a string"),
])
def test_bad_values_name_the_summary(tmp_path, call, error, message):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(error, match=message):
            call()


@pytest.mark.parametrize("kwargs, message", [
    ({"logdir": ""}, "logdir must be a non-empty path"),
    ({"logdir": "x", "max_queue": -1}, "max_queue=-1"),
    ({"logdir": "x", "flush_millis": 0}, "flush_millis=0"),
    ({"logdir": "x", "filename_suffix": "a/b"}, "filename_suffix='a/b'"),
])
def test_create_file_writer_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tf.summary.create_file_writer(**kwargs)


def test_missing_tensorboard_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r"pip install numpyflow\[tensorboard\]"):
        tf.summary.create_file_writer(str(tmp_path))


def test_import_is_light_and_unclosed_writers_are_flushed_at_exit(tmp_path):
    # In a fresh interpreter: `import numpyflow` and `tf.summary` load no TensorBoard, and a
    # writer never closed or flushed still leaves its events on disk at exit.
    script = (
        "import sys, numpyflow as tf\n"
        "tf.summary.scalar('x', 1., step=0)\n"
        "assert not [m for m in sys.modules if m.startswith(('tensorboard', 'google'))]\n"
        f"w = tf.summary.create_file_writer({str(tmp_path)!r}, flush_millis=10**7)\n"
        "w.set_as_default(step=4)\n"
        "tf.summary.scalar('late', 2.)\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert [(step, float(v)) for step, v, _ in read_events(str(tmp_path))["late"]] == [(4, 2.)]
