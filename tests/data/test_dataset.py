"""tf.data.Dataset: sources, transformations, specs, cardinality (expected values from TF 2.21)."""

import collections
import os

import numpy as np
import pytest

import numpyflow as tf

D = tf.data.Dataset


def values(ds):
    """The elements as nested Python values."""
    def convert(x):
        if isinstance(x, tuple):
            return tuple(convert(i) for i in x)
        if isinstance(x, dict):
            return {k: convert(v) for k, v in x.items()}
        return x.tolist() if isinstance(x, np.ndarray) else (x.item() if hasattr(x, "item") else x)
    return [convert(e) for e in ds.as_numpy_iterator()]


def card(ds):
    c = ds.cardinality()
    assert isinstance(c, tf.Tensor) and c.dtype == tf.int64 and c.shape == ()
    return int(c)


# -- sources ---------------------------------------------------------------------------------

def test_from_tensor_slices_structures_and_specs():
    ds = D.from_tensor_slices(({"b": [1, 2], "a": np.array([1., 2.], np.float32)},
                               [[1, 2], [3, 4]]))
    first = next(iter(ds))
    assert isinstance(first, tuple) and isinstance(first[0]["a"], tf.Tensor)
    assert values(ds) == [({"b": 1, "a": 1.0}, [1, 2]), ({"b": 2, "a": 2.0}, [3, 4])]
    assert ds.element_spec == ({"b": tf.TensorSpec([], tf.int32),
                                "a": tf.TensorSpec([], tf.float32)}, tf.TensorSpec([2], tf.int32))
    assert list(ds.element_spec[0]) == ["b", "a"]  # Keeps the user's key order.
    assert card(ds) == 2 and len(ds) == 2


def test_from_tensor_slices_errors():
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        D.from_tensor_slices(([1, 2], [1, 2, 3]))
    with pytest.raises(ValueError, match="only supported for rank >= 1"):
        D.from_tensor_slices(1)


def test_namedtuple_elements_stay_namedtuples():
    Point = collections.namedtuple("Point", "x y")
    ds = D.from_tensor_slices(Point([1, 2], [3, 4])).map(lambda p: Point(p.y, p.x))
    first = next(iter(ds))
    assert type(first) is Point and int(first.x) == 3


def test_from_tensors():
    ds = D.from_tensors(([1, 2], {"a": 3}))
    assert values(ds) == [([1, 2], {"a": 3})]
    assert ds.element_spec == (tf.TensorSpec([2], tf.int32), {"a": tf.TensorSpec([], tf.int32)})
    assert card(ds) == 1


def test_range():
    assert values(D.range(5, 0, -2)) == [5, 3, 1]
    assert D.range(5).element_spec == tf.TensorSpec([], tf.int64)
    assert D.range(1, 5, 2, output_type=tf.int32).element_spec == tf.TensorSpec([], tf.int32)
    assert card(D.range(1, 10, 3)) == 3


def test_from_generator_signature_and_errors():
    ds = D.from_generator(lambda: iter([[1, 2], [3]]),
                          output_signature=tf.TensorSpec([None], tf.int32))
    assert values(ds) == [[1, 2], [3]] and card(ds) == tf.data.UNKNOWN_CARDINALITY
    assert values(ds) == [[1, 2], [3]]  # The generator is called again on each pass.
    # As TF: values are cast with NumPy (1.5 -> 1), shapes are checked.
    assert values(D.from_generator(lambda: iter([1.5]),
                                   output_signature=tf.TensorSpec([], tf.int32))) == [1]
    bad = D.from_generator(lambda: iter([[1, 2]]), output_signature=tf.TensorSpec([3], tf.int32))
    with pytest.raises(TypeError, match=r"yielded an element of shape \(2,\) where an element of "
                                        r"shape \(3,\) was expected"):
        list(bad)
    pairs = D.from_generator(lambda: ((i, {"y": [i] * 2}) for i in range(2)),
                             output_signature=(tf.TensorSpec([], tf.int64),
                                               {"y": tf.TensorSpec([2], tf.float32)}))
    assert values(pairs) == [(0, {"y": [0.0, 0.0]}), (1, {"y": [1.0, 1.0]})]


def test_from_generator_old_arguments_and_args():
    ds = D.from_generator(lambda n: range(int(n)), output_types=tf.int32, output_shapes=(),
                          args=(3,))
    assert values(ds) == [0, 1, 2] and ds.element_spec == tf.TensorSpec([], tf.int32)
    loose = D.from_generator(lambda: iter([(1, [2.])]), output_types=(tf.int32, tf.float32))
    assert repr(loose.element_spec[0]) == "TensorSpec(shape=<unknown>, dtype=tf.int32, name=None)"
    with pytest.raises(TypeError, match="output_signature"):
        D.from_generator(lambda: iter([]))


def test_generator_error_surfaces_then_iteration_ends():
    def gen():
        yield 1
        raise RuntimeError("boom in generator")
    it = iter(D.from_generator(gen, output_signature=tf.TensorSpec([], tf.int32)))
    assert int(next(it)) == 1
    with pytest.raises(RuntimeError, match="boom in generator"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_zip():
    a, b = D.range(3), D.range(10, 15)
    assert values(D.zip(a, b)) == [(0, 10), (1, 11), (2, 12)]
    assert values(D.zip((a, b))) == values(D.zip(a, b))
    nested = D.zip({"x": a, "y": (b, a)})
    assert values(nested)[0] == {"x": 0, "y": (10, 0)}
    assert card(D.zip(a, b)) == 3
    assert card(D.zip(a.repeat(), D.range(4))) == 4
    assert card(D.zip(a.filter(lambda x: True), D.range(4))) == -2
    with pytest.raises(TypeError, match="must be a Dataset"):
        D.zip(a, [1, 2])


def test_list_files(tmp_path):
    for name in "cab":
        (tmp_path / f"{name}.txt").write_text(name)
    (tmp_path / "z.png").write_text("")
    pattern = str(tmp_path / "*.txt")
    ordered = [f.numpy().decode() for f in D.list_files(pattern, shuffle=False)]
    assert [os.path.basename(f) for f in ordered] == ["a.txt", "b.txt", "c.txt"]
    assert repr(D.list_files(pattern).element_spec) == \
        "TensorSpec(shape=(), dtype=tf.string, name=None)"
    shuffled = [[f.numpy().decode() for f in D.list_files(pattern, seed=s)] for s in range(8)]
    assert all(sorted(s) == ordered for s in shuffled) and len({tuple(s) for s in shuffled}) > 1
    assert list(D.list_files(pattern, seed=3).as_numpy_iterator()) == \
        list(D.list_files(pattern, seed=3).as_numpy_iterator())
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
        D.list_files(str(tmp_path / "*.jpg"))


def test_string_slices_map_and_batch():
    ds = D.from_tensor_slices((["a", "bb", "ccc"], [1, 2, 3]))
    assert repr(ds.element_spec[0]) == "TensorSpec(shape=(), dtype=tf.string, name=None)"
    assert values(ds.map(lambda s, y: (s, y * 2))) == [(b"a", 2), (b"bb", 4), (b"ccc", 6)]
    batches = list(ds.batch(2).as_numpy_iterator())
    assert batches[0][0].tolist() == [b"a", b"bb"]
    assert values(ds.batch(2).unbatch())[2] == (b"ccc", 3)


def test_choose_from_datasets():
    a, b = D.from_tensors(0).repeat(), D.from_tensors(1).repeat()
    choice = D.from_tensor_slices(np.array([0, 1, 1, 0], np.int64))
    assert values(D.choose_from_datasets([a, b], choice)) == [0, 1, 1, 0]
    assert card(D.choose_from_datasets([a, b], choice)) == -2
    short = D.choose_from_datasets([D.range(1), D.range(5)], D.from_tensor_slices(
        np.array([0, 0, 1], np.int64)))
    assert values(short) == [0]  # stop_on_empty_dataset=True by default.
    with pytest.raises(TypeError, match="scalar `tf.int64`"):
        D.choose_from_datasets([a, b], D.range(3).map(lambda x: tf.cast(x, tf.int32)))


def test_sample_from_datasets():
    a, b = D.range(0, 50), D.range(100, 150)
    mixed = values(D.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=3))
    assert sorted(mixed) == list(range(50)) + list(range(100, 150))
    assert mixed != sorted(mixed)
    assert mixed == values(D.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=3))
    only_b = values(D.sample_from_datasets([a, b], weights=[0., 1.], seed=1))
    assert only_b == list(range(100, 150))
    assert card(D.sample_from_datasets([a, b], seed=1)) == -2


# -- element-wise ------------------------------------------------------------------------------

def test_map_spreads_tuples_and_infers_spec():
    ds = D.from_tensor_slices(([1., 2.], [3, 4])).map(lambda x, y: {"s": x * 2., "y": y})
    assert values(ds) == [{"s": 2.0, "y": 3}, {"s": 4.0, "y": 4}]
    assert ds.element_spec == {"s": tf.TensorSpec([], tf.float32), "y": tf.TensorSpec([], tf.int32)}
    listed = D.range(2).map(lambda x: [x, x + 1])  # A list result becomes a tuple, as in TF.
    assert values(listed) == [(0, 1), (1, 2)]


def test_map_wrong_number_of_arguments_raises_at_build_time():
    # TF 2.21: "<lambda>() takes 1 positional argument but 2 were given", and
    # "<lambda>() missing 1 required positional argument: 'y'".
    with pytest.raises(TypeError, match=r"<lambda>\(\) takes 1 positional argument but 2 were "
                                        r"given \(the dataset's elements have 2 component"):
        D.from_tensor_slices(([1], [2])).map(lambda x: x)
    with pytest.raises(TypeError,
                       match=r"<lambda>\(\) missing 1 required positional argument: 'y'"):
        D.range(3).map(lambda x, y: x)
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        D.from_tensor_slices(([1], [2])).filter(lambda x: True)


def test_map_error_surfaces_with_original_traceback_and_iteration_continues():
    def fail_on_one(x):
        if int(x) == 1:
            raise ValueError("bad element 1")
        return x
    it = iter(D.range(3).map(fail_on_one))
    assert int(next(it)) == 0
    with pytest.raises(ValueError, match="bad element 1") as info:
        next(it)
    assert any(entry.name == "fail_on_one" for entry in info.traceback)
    assert int(next(it)) == 2  # As TF: the iterator goes on after an element's error.


def test_filter_and_predicate_type():
    assert values(D.range(6).filter(lambda x: x % 2 == 0)) == [0, 2, 4]
    assert card(D.range(6).filter(lambda x: True)) == -2
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(D.range(6).filter(lambda x: True))
    with pytest.raises(ValueError, match="must return a `tf.bool` scalar tensor"):
        list(D.range(3).filter(lambda x: x))


def test_ignore_errors():
    def inverse(x):
        if float(x) == 0:
            raise tf.errors.InvalidArgumentError(None, None, "zero")
        return 1. / x
    ds = D.from_tensor_slices([1., 0., 2.]).map(inverse).ignore_errors()
    assert values(ds) == [1.0, 0.5]


def test_numpy_function_and_py_function_in_map():
    ds = D.range(3).map(lambda x: tf.numpy_function(lambda v: v * 2, [x], tf.int64))
    assert values(ds) == [0, 2, 4]
    ds = D.range(3).map(lambda x: tf.py_function(lambda v: (v + 1, tf.cast(v, tf.float64)),
                                                 [x], [tf.int64, tf.float64]))
    assert values(ds) == [(1, 0.0), (2, 1.0), (3, 2.0)]
    with pytest.raises(TypeError, match="Tout expects int32"):
        tf.numpy_function(lambda v: v, [np.int64(1)], tf.int32)


def test_enumerate():
    ds = D.range(3).enumerate(start=5)
    assert values(ds) == [(5, 0), (6, 1), (7, 2)]
    assert ds.element_spec == (tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int64))


def test_reduce():
    assert int(D.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10
    assert float(D.from_tensor_slices([1., 2., 3.]).reduce(0., lambda s, x: s + x)) == 6.0


# -- batching -------------------------------------------------------------------------------

def test_batch_remainder_specs_and_cardinality():
    assert values(D.range(5).batch(2)) == [[0, 1], [2, 3], [4]]
    assert values(D.range(5).batch(2, drop_remainder=True)) == [[0, 1], [2, 3]]
    assert D.range(3).batch(2).element_spec == tf.TensorSpec([None], tf.int64)
    assert D.range(3).batch(2, drop_remainder=True).element_spec == tf.TensorSpec([2], tf.int64)
    assert card(D.range(10).batch(3)) == 4 and card(D.range(10).batch(3, drop_remainder=True)) == 3
    assert card(D.range(5).repeat().batch(2)) == -1


def test_batch_errors_match_tf():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Batch size must be greater than"):
        D.range(3).batch(0)
    ragged = D.from_generator(lambda: iter([[1, 2], [1, 2, 3]]),
                              output_signature=tf.TensorSpec([None], tf.int32)).batch(2)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        list(ragged)
    assert str(info.value) == ("Cannot batch tensors with different shapes in component 0. First "
                               "element had shape [2] and element 1 had shape [3].")
    with pytest.raises(NotImplementedError, match="num_parallel_calls"):
        D.range(3).batch(2, num_parallel_calls=2)


def test_padded_batch():
    ragged = D.from_generator(lambda: ([i] * i for i in range(4)),
                              output_signature=tf.TensorSpec([None], tf.int64))
    assert values(ragged.padded_batch(2)) == [[[0], [1]], [[2, 2, 0], [3, 3, 3]]]
    assert ragged.padded_batch(2).element_spec == tf.TensorSpec([None, None], tf.int64)
    assert values(ragged.padded_batch(2, padded_shapes=[4], padding_values=np.int64(-1)))[0] == \
        [[-1, -1, -1, -1], [1, -1, -1, -1]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="pad to a smaller size"):
        list(ragged.padded_batch(2, padded_shapes=[2]))
    with pytest.raises(ValueError, match=r"padded shape \(2,\) is not compatible with the shape"):
        D.range(3).padded_batch(2, padded_shapes=[2])
    assert card(D.range(10).padded_batch(4)) == 3


def test_unbatch_and_rebatch():
    assert values(D.range(5).batch(2).unbatch()) == [0, 1, 2, 3, 4]
    assert card(D.range(10).batch(2).unbatch()) == -2
    assert card(D.range(10).batch(2, drop_remainder=True).unbatch()) == 10
    with pytest.raises(ValueError, match="Cannot unbatch an input with scalar components."):
        D.range(3).unbatch()
    assert values(D.range(10).batch(4).rebatch(3)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert values(D.range(10).batch(4).rebatch([2, 3])) == [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    assert D.range(10).batch(4).rebatch(3, drop_remainder=True).element_spec == \
        tf.TensorSpec([3], tf.int64)
    with pytest.raises(ValueError, match="Invalid `batch_sizes`"):
        D.range(3).rebatch(2)


def test_window():
    windows = D.range(7).window(3, shift=2, stride=2)
    assert [values(w) for w in windows] == [[0, 2, 4], [2, 4, 6], [4, 6], [6]]
    assert repr(D.range(7).window(3).element_spec) == \
        "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))"
    assert card(D.range(10).window(3)) == 4
    assert card(D.range(10).window(3, drop_remainder=True)) == 3
    assert card(D.range(10).window(3, shift=2, stride=2, drop_remainder=True)) == 3
    pairs = D.range(4).map(lambda x: (x, {"a": x * 10})).window(2)
    first_x, first_d = next(iter(pairs))
    assert values(first_x) == [0, 1] and values(first_d["a"]) == [0, 10]
    flat = D.range(5).window(2, drop_remainder=True).flat_map(lambda w: w.batch(2))
    assert values(flat) == [[0, 1], [2, 3]]


# -- order and counts -------------------------------------------------------------------------

def test_repeat_take_skip_cardinalities():
    assert values(D.range(2).repeat(2)) == [0, 1, 0, 1]
    assert values(D.range(3).take(-1)) == [0, 1, 2] and values(D.range(3).skip(-1)) == []
    cases = {D.range(10).skip(20): 0, D.range(10).take(-1): 10, D.range(10).repeat(2).take(5): 5,
             D.range(0).repeat(): 0, D.range(5).repeat(0): 0, D.range(5).skip(-1): 0,
             D.range(5).repeat().skip(3): -1, D.range(5).repeat().take(3): 3,
             D.range(5).concatenate(D.range(2).repeat()): -1, D.range(3).cache(): 3}
    assert [card(ds) for ds in cases] == list(cases.values())
    assert values(D.range(0).repeat()) == []  # Empty, not a hang.
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(D.range(3).repeat())


def test_concatenate():
    assert values(D.range(2).concatenate(D.range(5, 7))) == [0, 1, 5, 6]
    mixed = D.from_tensors([1, 2]).concatenate(D.from_tensors([1, 2, 3]))
    assert mixed.element_spec == tf.TensorSpec([None], tf.int32)
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        D.range(3).concatenate(D.from_tensors(1.0))


def test_interleave_and_flat_map_order():
    ds = D.range(1, 4).interleave(lambda x: D.from_tensors(x).repeat(x), cycle_length=2,
                                  block_length=2)
    assert values(ds) == [1, 2, 2, 3, 3, 3]  # TF 2.21's order.
    assert values(D.range(3).flat_map(lambda x: D.range(x))) == [0, 0, 1]
    assert card(D.range(3).flat_map(lambda x: D.range(2))) == -2
    assert D.range(3).flat_map(lambda x: D.range(x)).element_spec == tf.TensorSpec([], tf.int64)
    with pytest.raises(TypeError, match="must return a Dataset"):
        list(D.range(3).flat_map(lambda x: x))


def test_shuffle_semantics():
    assert sorted(values(D.range(20).shuffle(5, seed=1))) == list(range(20))
    ds = D.range(20).shuffle(20, seed=7)
    first, second = values(ds), values(ds)
    assert first != second  # reshuffle_each_iteration defaults to True.
    assert values(D.range(20).shuffle(20, seed=7)) == first  # Rebuilt: same first epoch.
    fixed = D.range(20).shuffle(20, seed=7, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    # A buffer of 1 cannot reorder; a small buffer only moves elements forward so far.
    assert values(D.range(10).shuffle(1, seed=3)) == list(range(10))
    assert values(D.range(10).shuffle(2, seed=3))[0] in (0, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="buffer_size must be greater than"):
        D.range(3).shuffle(0)


def test_shuffle_follows_global_seed():
    tf.random.set_seed(5)
    a = values(D.range(30).shuffle(30))
    tf.random.set_seed(5)
    b = values(D.range(30).shuffle(30))
    tf.random.set_seed(6)
    c = values(D.range(30).shuffle(30))
    tf.random.set_seed(None)
    assert a == b and a != c
    tf.random.set_seed(1)
    with_op = values(D.range(30).shuffle(30, seed=2))
    tf.random.set_seed(2)
    other_global = values(D.range(30).shuffle(30, seed=2))
    tf.random.set_seed(None)
    assert with_op != other_global


def test_map_spec_inference_does_not_advance_shuffle_epoch():
    base = D.range(10).shuffle(10, seed=4)
    expected = values(D.range(10).shuffle(10, seed=4))
    mapped = base.map(lambda x: x * 1)
    mapped.element_spec
    assert values(mapped) == expected


def test_assert_cardinality():
    ds = D.range(5).filter(lambda x: True).apply(tf.data.experimental.assert_cardinality(5))
    assert card(ds) == 5 and len(ds) == 5 and values(ds) == [0, 1, 2, 3, 4]
    more = D.range(5).filter(lambda x: True).apply(tf.data.experimental.assert_cardinality(3))
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match="expected to contain 3 elements but contained at least 4"):
        list(more)
    fewer = D.range(2).apply(tf.data.experimental.assert_cardinality(3))
    with pytest.raises(tf.errors.FailedPreconditionError, match="contained only 2 elements"):
        list(fewer)


def test_apply_with_options_and_constants():
    assert tf.data.AUTOTUNE == -1
    assert tf.data.INFINITE_CARDINALITY == -1 and tf.data.UNKNOWN_CARDINALITY == -2
    assert values(D.range(4).apply(lambda d: d.skip(2))) == [2, 3]
    with pytest.raises(TypeError, match="must return a Dataset"):
        D.range(4).apply(lambda d: 3)
    options = tf.data.Options()
    options.deterministic = True
    assert values(D.range(2).with_options(options)) == [0, 1]
    with pytest.raises(NotImplementedError, match="experimental_optimization"):
        options.experimental_optimization = None


def test_import_numpyflow_does_not_load_data():
    import subprocess
    import sys
    code = ("import sys, numpyflow; print(sorted(m for m in sys.modules "
            "if m.startswith(('numpyflow.data', 'h5py', 'concurrent'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "numpyflow.data" not in out.stdout and "h5py" not in out.stdout


def test_map_spec_keeps_unknown_batch_dimension():
    ds = D.from_tensor_slices(np.zeros((5, 3), np.float32)).batch(2)
    ds = ds.map(lambda x: (x * 2., x[:, 0]))
    assert ds.element_spec == (tf.TensorSpec([None, 3], tf.float32),
                               tf.TensorSpec([None], tf.float32))
    exact = D.from_tensor_slices(np.zeros((5, 3), np.float32)).batch(2, drop_remainder=True)
    assert exact.map(lambda x: x + 1.).element_spec == tf.TensorSpec([2, 3], tf.float32)


def test_tensor_inputs_and_interleave_parallel_argument():
    ds = D.from_tensor_slices(tf.constant([[1, 2], [3, 4]]))
    assert values(ds) == [[1, 2], [3, 4]] and card(D.range(5).filter(lambda x: True).take(0)) == 0
    inner = D.range(1, 4).interleave(lambda x: D.from_tensors(x).repeat(x), cycle_length=2,
                                     block_length=2, num_parallel_calls=tf.data.AUTOTUNE)
    assert values(inner) == [1, 2, 2, 3, 3, 3]
