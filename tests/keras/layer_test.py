"""`run_layer_test`: the standard checks every Keras layer configuration should pass.

    run_layer_test(Dense, {"units": 3}, input_shape=(2, 4), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=2)
"""

import json

import numpy as np

import numpyflow as tf


def _random_input(input_shape, input_dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(input_dtype).kind in "iu":
        return rng.integers(0, 10, size=input_shape).astype(input_dtype)
    return rng.standard_normal(input_shape).astype(input_dtype)


def _mean_square(outputs):
    return tf.reduce_mean(tf.square(outputs))


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights, expected_num_non_trainable_weights=0,
                   input_dtype="float32", training_step=True, call_kwargs=None,
                   input_data=None, expected_output=None, learning_rate=0.1, seed=0):
    """Builds `layer_cls(**init_kwargs)`, calls it, and checks what every layer must do.

    Checks, in order:
      1. Calling it on random input (or `input_data`) gives `expected_output_shape`
         (and `expected_output`, when given).
      2. `compute_output_shape` agrees, for the full input shape and with a None batch,
         also on a fresh layer that was never built or called.
      3. The numbers of trainable and non-trainable weights.
      4. `from_config(get_config())` gives a layer with the same (JSON-serializable) config
         and output shape; with the same weights it gives the same output unless
         `call_kwargs` asks for training-mode randomness.
      5. If `training_step`: under a `GradientTape`, loss = mean(output ** 2) has a finite
         gradient for every trainable weight (and for a float input); one SGD step
         `w -= learning_rate * grad` lowers the loss.

    Returns:
      The layer, for further checks.
    """
    call_kwargs = dict(call_kwargs or {})
    name = layer_cls.__name__
    input_shape = tuple(input_shape)
    expected_output_shape = tuple(expected_output_shape)
    none_batch_input = (None,) + input_shape[1:]
    none_batch_output = (None,) + expected_output_shape[1:]
    x = _random_input(input_shape, input_dtype, seed) if input_data is None else input_data

    # 1. Call.
    layer = layer_cls(**init_kwargs)
    outputs = layer(x, **call_kwargs)
    assert layer.built, f"{name} is not marked built after its first call"
    assert tuple(outputs.shape) == expected_output_shape, (
        f"{name}: output shape {tuple(outputs.shape)}, expected {expected_output_shape}")
    assert np.isfinite(outputs.numpy()).all(), f"{name}: non-finite outputs"
    if expected_output is not None:
        np.testing.assert_allclose(outputs.numpy(), expected_output, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}: output values")

    # 2. Static output shape.
    for shape_in, shape_out in ((input_shape, expected_output_shape),
                                (none_batch_input, none_batch_output)):
        got = tuple(layer.compute_output_shape(shape_in))
        assert got == shape_out, (f"{name}.compute_output_shape({shape_in}) = {got}, "
                                  f"expected {shape_out}")

    # 3. Weights.
    assert len(layer.trainable_weights) == expected_num_trainable_weights, (
        f"{name}: {len(layer.trainable_weights)} trainable weights, expected "
        f"{expected_num_trainable_weights}")
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
        f"{name}: {len(layer.non_trainable_weights)} non-trainable weights, expected "
        f"{expected_num_non_trainable_weights}")

    # 4. Config round trip.
    config = layer.get_config()
    json.dumps(config)  # Configs are saved as JSON: no objects, only plain values.
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, f"{name}: config changed by from_config"
    got = tuple(clone.compute_output_shape(none_batch_input))
    assert got == none_batch_output, (f"{name}: unbuilt compute_output_shape gave {got}, "
                                      f"expected {none_batch_output}")
    clone_outputs = clone(x, **call_kwargs)
    assert tuple(clone_outputs.shape) == expected_output_shape
    if not call_kwargs.get("training"):
        clone.set_weights(layer.get_weights())
        np.testing.assert_allclose(clone(x, **call_kwargs).numpy(), outputs.numpy(),
                                   rtol=1e-6, atol=1e-6, err_msg=f"{name}: clone output")

    # 5. One training step.
    if training_step:
        _check_training_step(layer, x, {"training": True, **call_kwargs}, learning_rate)
    return layer


def _check_training_step(layer, x, call_kwargs, learning_rate):
    name = type(layer).__name__
    x = tf.constant(x)
    float_input = x.dtype.is_floating
    weights = list(layer.trainable_weights)
    with tf.GradientTape() as tape:
        if float_input:
            tape.watch(x)
        loss = _mean_square(layer(x, **call_kwargs))
    sources = weights + ([x] if float_input else [])
    grads = tape.gradient(loss, sources)
    for source, grad in zip(sources, grads):
        label = "the input" if source is x else source.name
        assert grad is not None, f"{name}: no gradient for {label}"
        assert tuple(grad.shape) == tuple(source.shape), f"{name}: gradient shape of {label}"
        assert np.isfinite(grad.numpy()).all(), f"{name}: non-finite gradient for {label}"
    if not weights:
        return
    for weight, grad in zip(weights, grads):
        weight.assign_sub(learning_rate * grad)
    new_loss = _mean_square(layer(x, **call_kwargs))
    assert float(new_loss) < float(loss), (
        f"{name}: one SGD step did not lower the loss ({float(loss)} -> {float(new_loss)})")
