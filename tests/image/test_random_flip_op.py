"""`tf.image.random_flip_*` as one op (`image_ops.RandomFlip`): the draws, flips and
gradients of TF's RandomUniform + Less + select, in one call per image."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.ops import image_ops


def image(shape, dtype=np.float32):
    return np.arange(np.prod(shape)).reshape(shape).astype(dtype)


def flipped(out, x, axis):
    if np.array_equal(out, x):
        return False
    np.testing.assert_array_equal(out, np.flip(x, axis))
    return True


@pytest.mark.parametrize("seed", [None, 7])
def test_one_image_flips_when_tf_random_uniform_draws_below_one_half(seed):
    x = image((4, 5, 2))
    tf.random.set_seed(3)
    flips = [flipped(tf.image.random_flip_left_right(x, seed=seed).numpy(), x, 1)
             for _ in range(40)]
    tf.random.set_seed(3)  # The same stream, drawn as TF's composite would draw it.
    draws = [float(tf.random.uniform((), seed=seed)) for _ in range(40)]
    assert flips == [d < 0.5 for d in draws]
    assert 0 < sum(flips) < 40


def test_each_image_of_a_batch_flips_when_its_draw_is_above_one_half():
    x = image((6, 3, 4, 1))
    tf.random.set_seed(5)
    out = tf.image.random_flip_up_down(x).numpy()
    tf.random.set_seed(5)
    draws = tf.random.uniform((6,)).numpy()
    assert [flipped(o, i, 0) for o, i in zip(out, x)] == list(draws > 0.5)


def test_integer_images_keep_their_dtype_and_the_output_is_a_new_array():
    x = image((3, 3, 1), np.uint8)
    tensor = tf.constant(x)
    for _ in range(8):
        out = tf.image.random_flip_left_right(tensor)
        assert out.dtype == tf.uint8
        assert not np.shares_memory(out.numpy(), tensor.numpy())


def test_a_traced_gradient_flips_the_upstream_gradient_as_each_call_flipped():
    x = tf.constant(image((3, 2, 1)))
    w = image((3, 2, 1)) + 10

    tf.random.set_seed(1)
    seen = set()
    for _ in range(30):
        with tf.GradientTape() as tape:  # Eagerly, then traced (plans after two calls).
            tape.watch(x)
            y = tf.image.random_flip_up_down(x)
            loss = tf.reduce_sum(y * w)
        grad = tape.gradient(loss, x).numpy()
        was_flipped = flipped(y.numpy(), x.numpy(), 0)
        np.testing.assert_array_equal(grad, w[::-1] if was_flipped else w)
        seen.add(was_flipped)
    assert seen == {False, True}

    @tf.function
    def traced(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.image.random_flip_up_down(x)
            loss = tf.reduce_sum(y * w)
        return y, tape.gradient(loss, x)

    seen = set()
    for _ in range(30):
        y, grad = traced(x)
        was_flipped = flipped(y.numpy(), x.numpy(), 0)
        np.testing.assert_array_equal(grad.numpy(), w[::-1] if was_flipped else w)
        seen.add(was_flipped)
    assert seen == {False, True} and traced.plan_sources()
    assert "RandomFlip" in traced.plan_sources()[0]


def test_a_dataset_map_flips_each_element_by_its_own_draw():
    x = image((2, 3, 1))
    ds = tf.data.Dataset.from_tensors(x).repeat(64).map(tf.image.random_flip_left_right)
    flips = [flipped(e.numpy(), x, 1) for e in ds]
    assert 0 < sum(flips) < 64


def test_other_ranks_are_refused_with_the_shape_received():
    with pytest.raises(ValueError, match=r"random_flip_left_right: .*3-D .* or 4-D .*"
                                         r"received shape \(2, 3\)"):
        tf.image.random_flip_left_right(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"received shape \[5\]"):
        image_ops.random_flip(np.zeros(5), axis=-2)
