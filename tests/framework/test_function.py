"""`tf.function` runs the decorated function eagerly, with gradients."""

import numpy as np

import numpyflow as tf


def test_decorated_training_step_matches_the_undecorated_one():
    w = tf.Variable([[1.0], [2.0]])
    x = tf.constant([[1.0, 1.0], [2.0, 0.5]])

    def step(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(inputs @ w))
        return loss, tape.gradient(loss, w)

    compiled = tf.function(step)
    (loss_a, grad_a), (loss_b, grad_b) = step(x), compiled(x)
    assert float(loss_a) == float(loss_b)
    np.testing.assert_array_equal(grad_a.numpy(), grad_b.numpy())
    assert compiled.python_function is step and compiled.__name__ == "step"


def test_decorator_with_arguments_and_on_methods():
    class Doubler:
        @tf.function(input_signature=None, jit_compile=False)
        def __call__(self, x):
            return x * 2.0

    assert float(Doubler()(tf.constant(1.5))) == 3.0
