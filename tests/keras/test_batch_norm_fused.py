"""BatchNormalization's fused training path (ops/normalization_ops.py) against the composed
one (tf.nn.moments + tf.nn.batch_normalization), which it replaces for channels-last inputs:
the same outputs, gradients and moving statistics, eagerly and in a compiled step."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import primitive as primitive_module
from numpyflow.keras.layers import BatchNormalization


def composed(layer):
    """`layer` made to train through the composed ops (the reference)."""
    layer._fused_training_applies = lambda x: False
    return layer


def primitives_run(fn):
    ran = set()
    primitive_module.trace_hook = ran.add
    try:
        fn()
    finally:
        primitive_module.trace_hook = None
    return ran


def train_once(layer, x, weights):
    """(output, d loss / d (x, gamma, beta), moving mean, moving variance) of one call."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x, training=True) * weights)
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    output = layer(x, training=False)  # With the updated moving statistics.
    return ([output.numpy()] + [g.numpy() for g in grads]
            + [layer.moving_mean.numpy(), layer.moving_variance.numpy()])


@pytest.mark.parametrize("shape, dtype, kwargs", [
    ((64, 8, 8, 16), "float32", {}),
    ((1, 5, 5, 3), "float32", {}),             # batch of one
    ((7, 3, 5, 4), "float32", {}),             # odd sizes: no widened rows
    ((6, 4), "float64", {}),
    ((5, 3, 2), "float64", {"center": False}),
    ((9, 4, 4, 2), "float32", {"scale": False, "momentum": 0.5, "epsilon": 0.1}),
], ids=str)
def test_fused_matches_composed(shape, dtype, kwargs):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2. + 3.).astype(dtype)
    weights = rng.standard_normal(shape).astype(dtype)
    fused = BatchNormalization(dtype=dtype, **kwargs)
    reference = composed(BatchNormalization(dtype=dtype, **kwargs))
    assert "BatchNormTraining" in primitives_run(lambda: fused(x, training=True))
    assert "BatchNormTraining" not in primitives_run(lambda: reference(x, training=True))
    fused.set_weights(reference.get_weights())
    tolerance = {"rtol": 2e-4, "atol": 2e-4} if dtype == "float32" else {"rtol": 1e-10}
    for got, want in zip(train_once(fused, x, weights), train_once(reference, x, weights)):
        np.testing.assert_allclose(got, want, **tolerance)


def test_other_axes_keep_the_composed_path():
    x = np.ones((2, 3, 4, 4), np.float32)
    layer = BatchNormalization(axis=1)
    assert "BatchNormTraining" not in primitives_run(lambda: layer(x, training=True))
    assert "BatchNormTraining" not in primitives_run(lambda: BatchNormalization()(
        x, training=False))


def test_second_derivative_matches_finite_differences():
    # Under an outer tape the gradient is written with differentiable ops. (Not compared
    # with the composed path: tf.nn.moments stops the gradient of the mean inside the
    # variance, as TF does, which is exact for first derivatives only.)
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((6, 3))
    projection = np.arange(18.).reshape(6, 3)
    layer = BatchNormalization(dtype="float64", epsilon=0.1, gamma_initializer="random_normal")
    layer.build((6, 3))

    def gradient(x):
        with tf.GradientTape() as inner:
            inner.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x, training=True)) * x)
        return inner.gradient(loss, x)

    x = tf.constant(x0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        projected = tf.reduce_sum(gradient(x) * projection)
    analytic = outer.gradient(projected, x).numpy()

    numeric = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[index] = 1e-6
        plus = float(tf.reduce_sum(gradient(tf.constant(x0 + step)) * projection))
        minus = float(tf.reduce_sum(gradient(tf.constant(x0 - step)) * projection))
        numeric[index] = (plus - minus) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_compiled_fit_runs_the_fused_primitives_and_matches_eager():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 6, 6, 3)).astype(np.float32)
    y = rng.integers(0, 2, 32)

    def model(run_eagerly):
        tf.keras.utils.set_random_seed(7)
        inputs = tf.keras.Input((6, 6, 3))
        hidden = tf.keras.layers.Conv2D(4, 3, use_bias=False)(inputs)
        hidden = BatchNormalization()(hidden)
        outputs = tf.keras.layers.Dense(2, activation="softmax")(
            tf.keras.layers.Flatten()(hidden))
        built = tf.keras.Model(inputs, outputs)
        built.compile("adam", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        built.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return built

    compiled, eager = model(False), model(True)
    sources = "\n".join(compiled.train_function.plan_sources())
    for name in ("f_BatchMoments", "f_BatchNormTraining", "f_BatchNormTrainingGradSums",
                 "f_BatchNormTrainingInputGrad"):
        assert name in sources
    for got, want in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_bad_gamma_is_refused_by_name():
    from numpyflow.ops import normalization_ops
    with pytest.raises(ValueError, match=r"BatchNormTraining: `gamma` must have shape \(3,\)"):
        normalization_ops.batch_norm_training(tf.ones((2, 3)), tf.ones(4), tf.zeros(3), 1e-3)
    with pytest.raises(ValueError, match="BatchMoments: expected a float32 or float64"):
        normalization_ops.batch_moments(tf.constant([1, 2]))
