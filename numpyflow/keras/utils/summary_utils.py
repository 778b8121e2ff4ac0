"""`model.summary()`: the layer table in tf.keras 2.x's layout."""


def _count(weights):
    return int(sum(w.shape.num_elements() for w in weights))


def _format_shape(shape):
    if shape is None:
        return "multiple"
    return str(tuple(shape))


def _row(fields, positions):
    line = ""
    for field, stop in zip(fields, positions):
        line = (line + str(field))[:stop]
        line += " " * (stop - len(line))
    return line


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints one row per layer: name (type), output shape, parameter count; then totals.

    Args:
      model: A built Keras model.
      line_length: Total width of the table (65 by default).
      positions: Right edges of the columns, as fractions of `line_length` or absolute
        positions (default `[.45, .85, 1.]`).
      print_fn: Called with each line instead of `print`.
    """
    print_fn = print_fn or print
    line_length = line_length or 65
    positions = positions or [.45, .85, 1.]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_fn(_row(["Layer (type)", "Output Shape", "Param #"], positions))
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        shape = getattr(layer, "_output_shape", None)
        params = layer.count_params() if layer.built else 0
        print_fn(_row([f"{layer.name} ({type(layer).__name__})", _format_shape(shape), params],
                      positions))
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    if not layers:
        print_fn("=" * line_length)

    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)
