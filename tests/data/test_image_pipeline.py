"""The PNG input pipeline of the benchmarks (`list_files -> map(decode, resize, random flip,
AUTOTUNE) -> batch -> prefetch`): same elements as a serial map, fresh random draws per
element, errors at their element, no thread left behind."""

import threading
import time

import numpy as np
import pytest

import numpyflow as tf

D = tf.data.Dataset


@pytest.fixture
def png_dir(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(150):
        image = rng.integers(0, 256, (9, 7, 1), dtype=np.uint8)
        tf.io.write_file(str(tmp_path / f"{index:03d}.png"), tf.io.encode_png(image))
    return tmp_path


def decode(path):
    image = tf.io.decode_png(tf.io.read_file(path), channels=1)
    return tf.image.resize(image, [12, 10])


def test_parallel_pipeline_gives_the_serial_pipeline_s_batches(png_dir):
    pattern = str(png_dir / "*.png")
    serial = D.list_files(pattern, shuffle=False).map(decode).batch(32)
    parallel = (D.list_files(pattern, shuffle=False)
                .map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(32)
                .prefetch(tf.data.AUTOTUNE))
    expected = [b.numpy() for b in serial]
    for _ in range(2):
        got = [b.numpy() for b in parallel]
        assert [b.shape for b in got] == [(32, 12, 10, 1)] * 4 + [(22, 12, 10, 1)]
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)


def test_random_flips_are_drawn_per_element(png_dir):
    def flip_only(path):
        image = tf.cast(tf.io.decode_png(tf.io.read_file(path), channels=1), tf.float32)
        return image, tf.image.random_flip_left_right(image)
    ds = (D.list_files(str(png_dir / "*.png"), shuffle=False)
          .map(flip_only, num_parallel_calls=tf.data.AUTOTUNE))
    flipped = []
    for image, maybe in ds:
        image, maybe = image.numpy(), maybe.numpy()
        if not np.array_equal(maybe, image):
            np.testing.assert_array_equal(maybe, image[:, ::-1])
            flipped.append(True)
        else:
            flipped.append(False)
    assert 40 < sum(flipped) < 110  # About half of 150; all or none would be one draw.


def test_a_corrupt_file_fails_at_its_element_and_can_be_skipped(png_dir):
    (png_dir / "075.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"broken" * 10)
    baseline = threading.active_count()
    ds = (D.list_files(str(png_dir / "*.png"), shuffle=False)
          .map(decode, num_parallel_calls=tf.data.AUTOTUNE))
    it = iter(ds)
    assert len([next(it) for _ in range(75)]) == 75
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode the PNG image"):
        next(it)
    assert sum(1 for _ in it) == 74  # The pass goes on after the error, as in TF.
    assert sum(1 for _ in ds.ignore_errors()) == 149
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == baseline
