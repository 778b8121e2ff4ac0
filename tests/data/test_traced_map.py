"""Dataset.map runs its function as a compiled plan (as TF runs a traced graph), with the
results of eager execution."""

import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.data import traced_map
from numpyflow.framework.plan import ShapeChanged


def _write_pngs(directory, shapes):
    rng = np.random.default_rng(0)
    paths = []
    for i, shape in enumerate(shapes):
        path = os.path.join(directory, f"{i:03d}.png")
        tf.io.write_file(path, tf.io.encode_png(rng.integers(0, 256, shape, dtype=np.uint8)))
        paths.append(path)
    return paths


def _load(path):
    image = tf.io.decode_png(tf.io.read_file(path), channels=1)
    return tf.image.resize(image, [8, 8])


def test_an_image_map_compiles_into_a_plan_with_eager_results(tmp_path):
    paths = _write_pngs(tmp_path, [(6, 5, 1)] * 6)
    compiled = traced_map.traced(_load, tf.TensorSpec([], tf.string))
    mapped = [compiled(tf.constant(p)).numpy() for p in paths]
    assert compiled._function.plan_sources(), compiled._function.eager_reasons()
    source = compiled._function.plan_sources()[0]
    assert "f_ReadFile" in source and "f_DecodePng" in source
    for path, image in zip(paths, mapped):
        np.testing.assert_array_equal(image, _load(path).numpy())
    from_dataset = list(tf.data.Dataset.from_tensor_slices(paths).map(_load))
    for path, image in zip(paths, from_dataset):
        np.testing.assert_array_equal(image.numpy(), _load(path).numpy())


def test_an_image_of_another_size_runs_eagerly_and_right(tmp_path):
    paths = _write_pngs(tmp_path, [(6, 5, 1)] * 4 + [(3, 9, 1)])
    compiled = traced_map.traced(_load, tf.TensorSpec([], tf.string))
    for path in paths[:4]:
        compiled(tf.constant(path))
    plan = next(iter(compiled._function._signatures.values())).plan
    with pytest.raises(ShapeChanged, match=r"DecodePng gave shape \(3, 9, 1\)"):
        plan([np.array(paths[4].encode(), dtype=object)])
    np.testing.assert_array_equal(compiled(tf.constant(paths[4])).numpy(),
                                  _load(paths[4]).numpy())


def test_random_ops_draw_afresh_for_each_element():
    def jitter(x):
        return x + tf.random.uniform(())

    values = [float(v) for v in tf.data.Dataset.from_tensor_slices(np.zeros(8, np.float32))
              .map(jitter)]
    assert len(set(values)) == 8


def test_random_flips_in_a_plan_flip_some_images_and_not_others(tmp_path):
    paths = _write_pngs(tmp_path, [(4, 4, 1)] * 1)

    def flip(path):
        return tf.image.random_flip_left_right(_load(path))

    dataset = tf.data.Dataset.from_tensor_slices(paths * 40).map(flip)
    images = [image.numpy() for image in dataset]
    original = _load(paths[0]).numpy()
    flipped = sum(not np.array_equal(image, original) for image in images)
    assert 5 < flipped < 35  # About half of 40.


def test_python_that_reads_values_stays_eager_and_correct():
    def numpy_square(x):
        return tf.numpy_function(np.square, [x], tf.float32)

    compiled = traced_map.traced(numpy_square, tf.TensorSpec([], tf.float32))
    out = [float(compiled(tf.constant(float(i)))) for i in range(4)]
    assert out == [0.0, 1.0, 4.0, 9.0]
    assert compiled._function.plan_sources() == [] and compiled._function.eager_reasons()


def test_sparse_elements_and_user_functions_are_left_as_they_are():
    def f(x):
        return x

    spec = tf.SparseTensorSpec([None], tf.float32)
    assert traced_map.traced(f, spec) is f
    already = tf.function(f)
    assert traced_map.traced(already, tf.TensorSpec([], tf.float32)) is already


def test_a_function_given_many_shapes_gives_up_tracing():
    compiled = traced_map.traced(lambda x: x * 2.0, tf.TensorSpec([None], tf.float32))
    for n in range(1, traced_map._MAX_TRACES + 4):
        np.testing.assert_array_equal(compiled(tf.ones(n)).numpy(), np.full(n, 2.0))
    assert compiled._function is None


def test_a_corrupt_file_still_fails_at_its_element(tmp_path):
    paths = _write_pngs(tmp_path, [(4, 4, 1)] * 3)
    with open(paths[1], "wb") as f:
        f.write(b"not a png")
    dataset = tf.data.Dataset.from_tensor_slices(paths + paths).map(_load)
    iterator = iter(dataset)
    next(iterator)
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode_png"):
        next(iterator)
