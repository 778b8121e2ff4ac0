"""Review: TF code that passes TensorShape(None) (unknown rank) where TF takes it:
`tf.Variable(shape=...)` (a variable whose shape may change) and
`Dataset.from_generator(output_shapes=...)`, alone or nested in a structure."""

import numpy as np

import numpyflow as tf

UNKNOWN = tf.TensorShape(None)


def test_variable_with_an_unknown_rank_shape_takes_any_value():
    v = tf.Variable([1., 2.], shape=UNKNOWN)
    np.testing.assert_array_equal(v.numpy(), [1., 2.])
    w = tf.Variable(np.zeros((2, 3), np.float32), shape=tf.TensorShape([None, 3]))
    assert w.shape == (2, 3)


def test_from_generator_output_shapes_of_unknown_rank():
    def rows():
        yield np.zeros((2, 3), np.float32), 1
        yield np.ones(4, np.float32), 2

    ds = tf.data.Dataset.from_generator(rows, output_types=(tf.float32, tf.int32),
                                        output_shapes=(UNKNOWN, tf.TensorShape([])))
    spec, label_spec = ds.element_spec
    assert spec.shape.rank is None and label_spec.shape == ()
    got = list(ds.as_numpy_iterator())
    assert [x.shape for x, _ in got] == [(2, 3), (4,)] and [y for _, y in got] == [1, 2]
    alone = tf.data.Dataset.from_generator(lambda: iter([np.zeros(2, np.float32)]),
                                           output_types=tf.float32, output_shapes=UNKNOWN)
    assert alone.element_spec == tf.TensorSpec(None, tf.float32)
