"""`run_layer_test`: the standard checks every Keras layer configuration should pass.

    run_layer_test(Dense, {"units": 3}, input_shape=(2, 4), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=2)

Layers called on a list of tensors (merging layers) take a list of shapes:

    run_layer_test(Add, {}, input_shape=[(2, 3), (2, 3)], expected_output_shape=(2, 3),
                   expected_num_trainable_weights=0)
"""

import json

import numpy as np

import numpyflow as tf


def _random_input(input_shape, input_dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(input_dtype).kind in "iu":
        return rng.integers(0, 10, size=input_shape).astype(input_dtype)
    return rng.standard_normal(input_shape).astype(input_dtype)


def _is_shape_list(input_shape):
    """Whether `input_shape` lists the shapes of several inputs ([(2, 3), (2, 4)])."""
    return len(input_shape) > 0 and all(isinstance(s, (list, tuple)) for s in input_shape)


def _with_none_batch(shape):
    return (None,) + tuple(shape[1:])


def _mean_square(outputs):
    return tf.reduce_mean(tf.square(outputs))


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights, expected_num_non_trainable_weights=0,
                   input_dtype="float32", training_step=True, call_kwargs=None,
                   input_data=None, expected_output=None, learning_rate=0.1, seed=0,
                   config_round_trip=True):
    """Builds `layer_cls(**init_kwargs)`, calls it, and checks what every layer must do.

    `input_shape` is one shape, or a list of shapes for a layer called on a list of
    tensors (then `input_data` is a list of arrays and `input_dtype` may be a list too).

    Checks, in order:
      1. Calling it on random input (or `input_data`) gives `expected_output_shape`
         (and `expected_output`, when given).
      2. `compute_output_shape` agrees, for the full input shape and with a None batch,
         also on a fresh layer that was never built or called.
      3. The numbers of trainable and non-trainable weights.
      4. `from_config(get_config())` gives a layer with the same (JSON-serializable) config
         and output shape; with the same weights it gives the same output unless
         `call_kwargs` asks for training-mode randomness. With `config_round_trip=False`
         (layers that refuse `from_config`, such as Lambda) only the JSON check is done.
      5. If `training_step`: under a `GradientTape`, loss = mean(output ** 2) has a finite
         gradient for every trainable weight (and for each float input); one SGD step
         `w -= learning_rate * grad` lowers the loss.

    Returns:
      The layer, for further checks.
    """
    call_kwargs = dict(call_kwargs or {})
    name = layer_cls.__name__
    expected_output_shape = tuple(expected_output_shape)
    none_batch_output = _with_none_batch(expected_output_shape)
    if _is_shape_list(input_shape):
        input_shape = [tuple(s) for s in input_shape]
        none_batch_input = [_with_none_batch(s) for s in input_shape]
        dtypes = input_dtype if isinstance(input_dtype, (list, tuple)) else \
            [input_dtype] * len(input_shape)
        x = input_data if input_data is not None else [
            _random_input(s, d, seed + i) for i, (s, d) in enumerate(zip(input_shape, dtypes))]
    else:
        input_shape = tuple(input_shape)
        none_batch_input = _with_none_batch(input_shape)
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
    if config_round_trip:
        _check_config_round_trip(layer_cls, config, x, outputs, call_kwargs, layer,
                                 none_batch_input, none_batch_output, expected_output_shape)

    # 5. One training step.
    if training_step:
        _check_training_step(layer, x, {"training": True, **call_kwargs}, learning_rate)
    return layer


def _check_config_round_trip(layer_cls, config, x, outputs, call_kwargs, layer,
                             none_batch_input, none_batch_output, expected_output_shape):
    name = layer_cls.__name__
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


def _check_training_step(layer, x, call_kwargs, learning_rate):
    name = type(layer).__name__
    several = isinstance(x, (list, tuple))
    inputs = [tf.constant(item) for item in (x if several else [x])]
    float_inputs = [item for item in inputs if item.dtype.is_floating]
    x = inputs if several else inputs[0]
    weights = list(layer.trainable_weights)
    with tf.GradientTape() as tape:
        for item in float_inputs:
            tape.watch(item)
        loss = _mean_square(layer(x, **call_kwargs))
    sources = weights + float_inputs
    grads = tape.gradient(loss, sources)
    input_labels = {id(item): f"input {i}" if several else "the input"
                    for i, item in enumerate(inputs)}
    for source, grad in zip(sources, grads):
        label = input_labels.get(id(source)) or source.name
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
