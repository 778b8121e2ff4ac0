"""Tests for numpyflow.keras.optimizers: update rules against NumPy, API, configuration."""

import logging

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import optimizers
from numpyflow.keras.optimizers import schedules

RNG = np.random.default_rng(2)
START = RNG.normal(size=(3, 2)).astype(np.float32)
GRADS = [RNG.normal(size=(3, 2)).astype(np.float32) for _ in range(3)]
GRADS64 = [g.astype(np.float64) for g in GRADS]  # The NumPy references compute in float64.


def _run(optimizer, steps=len(GRADS), start=START):
    """Applies the first `steps` gradients to a variable starting at `start`; its value."""
    variable = tf.Variable(start)
    for gradient in GRADS[:steps]:
        optimizer.apply_gradients([(tf.constant(gradient), variable)])
    return variable.numpy()


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# -- NumPy reference update rules (Keras 2.11+ / Keras 3) ------------------------------------

def _np_sgd(lr, momentum=0., nesterov=False, steps=3):
    x, m = START.astype(np.float64), np.zeros_like(START, np.float64)
    for g in GRADS64[:steps]:
        if momentum == 0.:
            x = x - lr * g
            continue
        m = momentum * m - lr * g
        x = x + (momentum * m - lr * g if nesterov else m)
    return x


def _np_adam(lr, beta_1=0.9, beta_2=0.999, eps=1e-7, amsgrad=False, steps=3):
    x = START.astype(np.float64)
    m, v, v_hat = (np.zeros_like(x) for _ in range(3))
    for t, g in enumerate(GRADS64[:steps], start=1):
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
        x = x - m * alpha / (np.sqrt(v_hat if amsgrad else v) + eps)
    return x


def _np_rmsprop(lr, rho=0.9, momentum=0., eps=1e-7, centered=False, steps=3):
    x = START.astype(np.float64)
    velocity, mom, mean_g = (np.zeros_like(x) for _ in range(3))
    for g in GRADS64[:steps]:
        velocity = rho * velocity + (1 - rho) * g * g
        if centered:
            mean_g = rho * mean_g + (1 - rho) * g
            denominator = velocity - mean_g ** 2 + eps
        else:
            denominator = velocity + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            x = x - mom
        else:
            x = x - increment
    return x


def _np_adagrad(lr, initial=0.1, eps=1e-7, steps=3):
    x, accumulator = START.astype(np.float64), np.full(START.shape, initial)
    for g in GRADS64[:steps]:
        accumulator = accumulator + g * g
        x = x - lr * g / np.sqrt(accumulator + eps)
    return x


def _np_adamax(lr, beta_1=0.9, beta_2=0.999, eps=1e-7, steps=3):
    x = START.astype(np.float64)
    m, u = np.zeros_like(x), np.zeros_like(x)
    for t, g in enumerate(GRADS64[:steps], start=1):
        m = m + (g - m) * (1 - beta_1)
        u = np.maximum(beta_2 * u, np.abs(g))
        x = x - lr * m / ((1 - beta_1 ** t) * (u + eps))
    return x


# -- update rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [1, 2, 3])
def test_sgd(steps):
    _close(_run(optimizers.SGD(learning_rate=0.1), steps), _np_sgd(0.1, steps=steps))


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_sgd_momentum(steps):
    _close(_run(optimizers.SGD(0.1, momentum=0.9), steps), _np_sgd(0.1, 0.9, steps=steps))


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_sgd_nesterov(steps):
    _close(_run(optimizers.SGD(0.1, momentum=0.9, nesterov=True), steps),
           _np_sgd(0.1, 0.9, nesterov=True, steps=steps))


def test_sgd_default_learning_rate_is_0_01():
    _close(_run(optimizers.SGD(), 1), _np_sgd(0.01, steps=1))


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_adam(steps):
    _close(_run(optimizers.Adam(learning_rate=0.01), steps), _np_adam(0.01, steps=steps))


def test_adam_custom_betas_and_amsgrad():
    _close(_run(optimizers.Adam(0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
           _np_adam(0.05, 0.5, 0.9, 1e-3))
    _close(_run(optimizers.Adam(0.05, amsgrad=True)), _np_adam(0.05, amsgrad=True))


def test_adamw_decays_before_the_adam_step():
    decayed = tf.Variable(START)
    adamw = optimizers.AdamW(0.01, weight_decay=0.1)
    expected = tf.Variable(START)
    adam = optimizers.Adam(0.01)
    for g in GRADS:
        adamw.apply_gradients([(tf.constant(g), decayed)])
        expected.assign_sub(expected * 0.1 * 0.01)
        adam.apply_gradients([(tf.constant(g), expected)])
    _close(decayed.numpy(), expected.numpy())


@pytest.mark.parametrize("options", [{}, {"momentum": 0.5}, {"centered": True},
                                     {"centered": True, "momentum": 0.9, "rho": 0.8}])
def test_rmsprop(options):
    _close(_run(optimizers.RMSprop(learning_rate=0.01, **options)),
           _np_rmsprop(0.01, **options))


def test_adagrad():
    _close(_run(optimizers.Adagrad(learning_rate=0.1)), _np_adagrad(0.1))


def test_adamax():
    _close(_run(optimizers.Adamax(learning_rate=0.1)), _np_adamax(0.1))


def test_float64_variables_update_in_float64():
    variable = tf.Variable(START.astype(np.float64))
    optimizer = optimizers.Adam(0.01)
    for g in GRADS:
        optimizer.apply_gradients([(tf.constant(g.astype(np.float64)), variable)])
    assert variable.dtype == tf.float64
    # Only the learning rate is float32 (Keras keeps it in a float32 Variable).
    _close(variable.numpy(), _np_adam(float(np.float32(0.01))), rtol=1e-12, atol=1e-12)


def test_several_variables_keep_separate_slots():
    a, b = tf.Variable([1., 2.]), tf.Variable(3.)
    optimizer = optimizers.SGD(0.1, momentum=0.5)
    for _ in range(2):
        optimizer.apply_gradients([(tf.constant([1., 1.]), a), (tf.constant(2.), b)])
    # m1 = -lr*g, m2 = 0.5*m1 - lr*g: the variable moves by m1 + m2 = -2.5 * lr * g.
    _close(a.numpy(), [1. - 0.25, 2. - 0.25])
    _close(b.numpy(), 3. - 0.5)
    assert len(optimizer.variables) == 3  # iterations and one momentum per variable.


# -- minimize ---------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.1), optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    optimizers.Adam(0.1), optimizers.RMSprop(0.05), optimizers.Adagrad(0.5),
    optimizers.Adamax(0.2), optimizers.AdamW(0.1, weight_decay=1e-4)])
def test_minimize_converges_on_a_quadratic(optimizer):
    target = np.array([1., -2., 3.], np.float32)
    x = tf.Variable(np.zeros(3, np.float32))
    for _ in range(300):
        optimizer.minimize(lambda: tf.reduce_sum(tf.square(x - target)), [x])
    _close(x.numpy(), target, atol=1e-2, rtol=1e-2)
    assert int(optimizer.iterations) == 300


def test_minimize_with_a_tensor_loss_needs_the_tape():
    x = tf.Variable(2.)
    optimizer = optimizers.SGD(0.25)
    with tf.GradientTape() as tape:
        loss = x * x
    optimizer.minimize(loss, [x], tape=tape)
    assert float(x) == 1.
    with pytest.raises(ValueError, match="`tape` is required"):
        optimizer.minimize(loss, [x])


# -- gradients that are None ----------------------------------------------------------------

def test_none_gradients_are_skipped_with_a_warning(caplog):
    used, unused = tf.Variable(1., name="used"), tf.Variable(1., name="unused")
    optimizer = optimizers.SGD(0.5)
    logger = logging.getLogger("numpyflow")  # It does not propagate to the root logger.
    logger.addHandler(caplog.handler)
    try:
        optimizer.apply_gradients([(tf.constant(1.), used), (None, unused)])
    finally:
        logger.removeHandler(caplog.handler)
    assert float(used) == 0.5 and float(unused) == 1.
    assert "Gradients do not exist for variables ['unused:0']" in caplog.text
    assert int(optimizer.iterations) == 1


def test_all_none_gradients_raise():
    variable = tf.Variable(1., name="w")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable: \['w:0'\]"):
        optimizers.Adam().apply_gradients([(None, variable)])


def test_empty_grads_and_vars_is_a_no_op():
    optimizer = optimizers.SGD()
    optimizer.apply_gradients([])
    assert int(optimizer.iterations) == 0


def test_gradient_of_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        optimizers.SGD().apply_gradients([(tf.constant([1., 2., 3.]), tf.Variable([0., 0.]))])


# -- learning rate, schedules, clipping ---------------------------------------------------------

def test_learning_rate_is_a_settable_variable():
    optimizer = optimizers.SGD(learning_rate=0.1)
    assert isinstance(optimizer.learning_rate, tf.Variable)
    optimizer.learning_rate = 0.5
    _close(float(optimizer.learning_rate), 0.5)
    optimizer.learning_rate.assign(0.25)
    _close(float(optimizer.lr), 0.25)
    variable = tf.Variable(1.)
    optimizer.apply_gradients([(tf.constant(1.), variable)])
    _close(float(variable), 0.75)


def test_learning_rate_schedule_is_called_with_the_step():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(learning_rate=schedule)
    variable = tf.Variable(0.)
    for _ in range(3):
        optimizer.apply_gradients([(tf.constant(1.), variable)])
    _close(float(variable), -(0.1 + 0.05 + 0.025))
    _close(float(optimizer.learning_rate), 0.0125)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        optimizer.learning_rate = 0.1


def test_callable_learning_rate():
    optimizer = optimizers.SGD(learning_rate=lambda: 0.5)
    variable = tf.Variable(1.)
    optimizer.apply_gradients([(tf.constant(1.), variable)])
    assert float(variable) == 0.5


def test_legacy_lr_and_decay_arguments():
    with pytest.warns(UserWarning, match="`lr` argument is deprecated"):
        optimizer = optimizers.SGD(lr=0.1, decay=1.)
    variable = tf.Variable(0.)
    for _ in range(2):
        optimizer.apply_gradients([(tf.constant(1.), variable)])
    _close(float(variable), -(0.1 + 0.1 / 2))


def test_unknown_keyword_argument():
    with pytest.raises(TypeError, match="momentun"):
        optimizers.SGD(momentun=0.9)


@pytest.mark.parametrize("schedule, expected", [
    (schedules.ExponentialDecay(1., 2, 0.5), [1., 0.5 ** 0.5, 0.5, 0.5 ** 1.5]),
    (schedules.ExponentialDecay(1., 2, 0.5, staircase=True), [1., 1., 0.5, 0.5]),
    (schedules.InverseTimeDecay(1., 1, 0.5), [1., 1 / 1.5, 0.5, 0.4]),
    (schedules.PiecewiseConstantDecay([0, 2], [1., 0.5, 0.1]), [1., 0.5, 0.5, 0.1]),
    (schedules.PolynomialDecay(1., 2, end_learning_rate=0.), [1., 0.5, 0., 0.]),
    (schedules.PolynomialDecay(1., 2, end_learning_rate=0., cycle=True), [1., 0.5, 0., 0.25]),
    (schedules.CosineDecay(1., 2), [1., 0.5, 0., 0.]),
    (schedules.CosineDecay(0., 2, warmup_target=1., warmup_steps=2), [0., 0.5, 1., 0.5]),
])
def test_schedules(schedule, expected):
    _close([float(schedule(step)) for step in range(4)], expected)
    clone = schedules.deserialize(schedules.serialize(schedule))
    assert clone.get_config() == schedule.get_config()


def test_clipvalue():
    variable = tf.Variable([0., 0.])
    optimizers.SGD(1., clipvalue=0.5).apply_gradients([(tf.constant([2., -0.25]), variable)])
    _close(variable.numpy(), [-0.5, 0.25])


def test_clipnorm_rescales_each_gradient():
    a, b = tf.Variable([0., 0.]), tf.Variable(0.)
    optimizers.SGD(1., clipnorm=1.).apply_gradients(
        [(tf.constant([3., 4.]), a), (tf.constant(0.5), b)])
    _close(a.numpy(), [-0.6, -0.8])
    _close(float(b), -0.5)


def test_global_clipnorm_rescales_all_gradients_together():
    a, b = tf.Variable([0., 0.]), tf.Variable(0.)
    optimizers.SGD(1., global_clipnorm=2.5).apply_gradients(
        [(tf.constant([3., 0.]), a), (tf.constant(4.), b)])
    _close(a.numpy(), [-1.5, 0.])
    _close(float(b), -2.)


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1., clipvalue=1.)


def test_exclude_from_weight_decay():
    kernel, bias = tf.Variable(1., name="dense/kernel"), tf.Variable(1., name="dense/bias")
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.apply_gradients([(tf.constant(0.), kernel), (tf.constant(0.), bias)])
    _close(float(kernel), 1. - 0.5 * 0.1)
    assert float(bias) == 1.


# -- building and variables -----------------------------------------------------------------

def test_build_creates_slots_once_and_new_variables_later():
    optimizer = optimizers.Adam()
    first = tf.Variable([1., 2.])
    optimizer.build([first])
    assert len(optimizer.variables) == 3  # iterations, m, v
    optimizer.apply_gradients([(tf.constant([1., 1.]), first)])
    assert len(optimizer.variables) == 3
    second = tf.Variable(1.)
    optimizer.apply_gradients([(tf.constant(1.), second)])
    assert len(optimizer.variables()) == 5  # Also callable, as in Keras 2.11.
    assert all(not v.trainable for v in optimizer.variables)
    assert optimizer.iterations.dtype == tf.int64


def test_slots_are_not_created_for_plain_sgd():
    optimizer = optimizers.SGD()
    optimizer.apply_gradients([(tf.constant(1.), tf.Variable(1.))])
    assert len(optimizer.variables) == 1


def test_custom_optimizer_with_keras3_update_step():
    class HalfStep(optimizers.Optimizer):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(0.5 * learning_rate * gradient)

    variable = tf.Variable(1.)
    HalfStep(learning_rate=1.).apply_gradients([(tf.constant(1.), variable)])
    assert float(variable) == 0.5


# -- get and configuration ------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("adam", optimizers.Adam),
    ("Adam", optimizers.Adam), ("rmsprop", optimizers.RMSprop),
    ("RMSprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad),
    ("adamw", optimizers.AdamW), ("adamax", optimizers.Adamax)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_instance_and_dict():
    optimizer = optimizers.Adam()
    assert optimizers.get(optimizer) is optimizer
    sgd = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5,
                                                            "momentum": 0.9}})
    assert isinstance(sgd, optimizers.SGD) and sgd.momentum == 0.9
    _close(float(sgd.learning_rate), 0.5)


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'.*'Adam'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)


@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.),
    optimizers.Adam(0.002, beta_1=0.8, amsgrad=True),
    optimizers.AdamW(weight_decay=0.01),
    optimizers.RMSprop(centered=True, momentum=0.5, global_clipnorm=2.),
    optimizers.Adagrad(initial_accumulator_value=0.2),
    optimizers.Adamax(epsilon=1e-5),
    optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 100, 0.9)),
])
def test_config_round_trip(optimizer):
    config = optimizer.get_config()
    clone = type(optimizer).from_config(config)
    assert clone.get_config() == config
    assert optimizers.deserialize(optimizers.serialize(optimizer)).get_config() == config


def test_sgd_config_matches_keras():
    config = optimizers.SGD().get_config()
    assert config["name"] == "SGD" and config["momentum"] == 0.0
    assert config["nesterov"] is False
    _close(config["learning_rate"], 0.01)


def test_legacy_namespace():
    assert optimizers.legacy.Adam is optimizers.Adam
