"""`model.summary()`: the layer table in tf.keras 2.x's layouts.

Sequential (and subclassed) models print as the classic tutorials show them (65 columns:
name, output shape, parameters). Functional models print as tf.keras 2.15, the last
Keras 2, prints them: 98 columns with a "Connected to" column naming each input as
`layer[node][tensor]`, a blank row between layers, long fields wrapped, and weight sizes
in bytes in the totals.
"""

import numpy as np

from numpyflow.keras.utils.object_identity import unique_objects

# Where a field may wrap: after the end of a tuple, dict, list or quoted string.
_WRAP_AFTER = ("),", "},", "],", "',")


def _count(weights):
    return int(sum(w.shape.num_elements() for w in weights))


def _readable_size(num_bytes):
    """Bytes as tf.keras 2.15 prints them: "408.00 Byte", "1.53 KB", ..."""
    for unit in ("Byte", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def _byte_size(weights):
    return sum(w.shape.num_elements() * np.dtype(w.dtype.as_numpy_dtype).itemsize
               for w in weights)


def _output_shape_text(layer, bracket_inputs):
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError):
        return "multiple"
    if bracket_inputs and _is_input_layer(layer):
        return str([shape])  # tf.keras 2.x lists an InputLayer's shape: [(None, 8)].
    return str(shape)


def _is_input_layer(layer):
    return type(layer).__name__ == "InputLayer"


def _columns(line_length, positions, default):
    positions = positions or default
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    return positions


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False):
    """Prints one row per layer, then the parameter totals.

    Args:
      model: A built Keras model.
      line_length: Total width of the table (65, or 98 for functional models).
      positions: Right edges of the columns, as fractions of `line_length` or absolute
        positions.
      print_fn: Called with each line instead of `print`.
      expand_nested: Whether to list the layers of nested models below them.
    """
    print_fn = print_fn or print
    if getattr(model, "_is_graph_network", False) and hasattr(model, "_run_nodes"):
        _FunctionalTable(model, line_length or 98, positions, print_fn, expand_nested).print()
    else:
        _SequentialTable(model, line_length or 65, positions, print_fn, expand_nested).print()


class _SequentialTable:
    """The classic layout: fields cut to their column, rules between rows."""

    header = ["Layer (type)", "Output Shape", "Param #"]
    default_positions = [.45, .85, 1.]

    def __init__(self, model, line_length, positions, print_fn, expand_nested):
        self.model = model
        self.line_length = line_length
        self.positions = _columns(line_length, positions, self.default_positions)
        self.print_fn = print_fn
        self.expand_nested = expand_nested

    def print(self):
        self.print_fn(f'Model: "{self.model.name}"')
        self.print_fn("_" * self.line_length)
        self.row(self.header)
        self.print_fn("=" * self.line_length)
        layers = self.model.layers
        # A Sequential model's own graph knows each layer's output in this model.
        outputs = getattr(self.model, "_graph_outputs", None) or []
        self.outputs = {id(layer): x for layer, x in zip(layers, outputs)}
        for i, layer in enumerate(layers):
            self.row(self.fields(layer))
            if self.expand_nested and getattr(layer, "layers", None):
                self.nested_rows(layer, nested_level=1)
            self.print_fn("=" * self.line_length if i == len(layers) - 1
                          else "_" * self.line_length)
        if not layers:
            self.print_fn("=" * self.line_length)
        self.totals()

    def fields(self, layer):
        output = self.outputs.get(id(layer))
        shape_text = (str(tuple(output.shape)) if output is not None
                      else _output_shape_text(layer, bracket_inputs=False))
        params = layer.count_params() if layer.built else 0
        return [f"{layer.name} ({type(layer).__name__})", shape_text, params]

    def row(self, fields, prefix=""):
        line = prefix
        for field, stop in zip(fields, self.positions):
            line = (line + str(field))[:stop]
            line += " " * (stop - len(line))
        self.print_fn(line)

    def nested_rows(self, model, nested_level):
        """The layers of a nested model, between bars, indented by their depth."""
        self.print_fn("|" * nested_level + "\u00af" * (self.line_length - nested_level))
        for layer in model.layers:
            self.row(self.fields(layer), prefix="| " * nested_level)
            if getattr(layer, "layers", None):
                self.nested_rows(layer, nested_level + 1)
        self.print_fn("\u00af" * self.line_length)

    def totals(self):
        trainable = _count(self.model.trainable_weights)
        non_trainable = _count(self.model.non_trainable_weights)
        self.print_fn(f"Total params: {trainable + non_trainable:,}")
        self.print_fn(f"Trainable params: {trainable:,}")
        self.print_fn(f"Non-trainable params: {non_trainable:,}")
        self.print_fn("_" * self.line_length)


class _FunctionalTable(_SequentialTable):
    """tf.keras 2.15's layout for functional models (see module doc)."""

    header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    default_positions = [.3, .6, .7, 1.]

    def print(self):
        self.print_fn(f'Model: "{self.model.name}"')
        self.print_fn("_" * self.line_length)
        self.row(self.header)
        self.print_fn("=" * self.line_length)
        nodes = set(id(node) for node in self.model._nodes)
        for layer in self.model.layers:
            self.layer_rows(layer, nodes, nested_level=0, last_in_block=False)
        self.print_fn("=" * self.line_length)
        self.totals()

    def layer_rows(self, layer, model_nodes, nested_level, last_in_block):
        self.row(self.fields(layer, model_nodes), nested_level)
        nested = getattr(layer, "layers", None) if self.expand_nested else None
        if nested:
            bars, width = "|" * (nested_level + 1), self.line_length - 2 * nested_level - 2
            self.print_fn(bars + "\u00af" * width + bars)
            inner_nodes = set(id(node) for node in getattr(layer, "_nodes", ()))
            for i, inner in enumerate(nested):
                self.layer_rows(inner, inner_nodes, nested_level + 1,
                                last_in_block=i == len(nested) - 1)
            bars = "|" * nested_level
            self.print_fn(bars + "\u00af" * (self.line_length - 2 * nested_level) + bars)
            return  # tf.keras 2.15 prints no blank row after an expanded block.
        if not last_in_block:
            bars = "|" * nested_level
            self.print_fn(bars + " " * (self.line_length - 2 * nested_level) + bars)

    def fields(self, layer, model_nodes):
        connections = []
        for node in layer._inbound_nodes:
            if id(node) not in model_nodes:
                continue
            for x in node.input_tensors:
                inbound, node_index, tensor_index = x._keras_history
                # A Keras 2 model's first node is the one linking its own inputs to outputs.
                if getattr(inbound, "_is_graph_network", False):
                    node_index += 1
                connections.append(f"{inbound.name}[{node_index}][{tensor_index}]")
        params = layer.count_params() if layer.built else 0
        return [f"{layer.name} ({type(layer).__name__})",
                _output_shape_text(layer, bracket_inputs=True), params, str(connections)]

    def row(self, fields, nested_level=0):
        """One row; fields too long for their column continue on the next lines."""
        remaining = [str(field) for field in fields]
        last = len(self.positions) - 1
        while any(remaining):
            line = ""
            for col, stop in enumerate(self.positions):
                start = self.positions[col - 1] if col else 0
                gap = 0 if col == last else 2
                width = stop - start - gap - (0 if col == last else 1)
                if col == 0:
                    width -= nested_level
                    line += "|" * nested_level + " "
                piece = remaining[col][:width]
                breaks = [piece.find(mark) + len(mark) for mark in _WRAP_AFTER if mark in piece]
                if breaks:
                    piece = piece[:min(breaks)]
                remaining[col] = remaining[col][len(piece):]
                line += piece + " " * gap
                end = stop - nested_level if col == last else stop
                line += " " * (end - len(line))
            self.print_fn(line + "|" * nested_level)

    def totals(self):
        trainable = unique_objects(self.model.trainable_weights)
        non_trainable = unique_objects(self.model.non_trainable_weights)
        total_bytes = _byte_size(trainable) + _byte_size(non_trainable)
        self.print_fn(f"Total params: {_count(trainable) + _count(non_trainable):,} "
                      f"({_readable_size(total_bytes)})")
        self.print_fn(f"Trainable params: {_count(trainable):,} "
                      f"({_readable_size(_byte_size(trainable))})")
        self.print_fn(f"Non-trainable params: {_count(non_trainable):,} "
                      f"({_readable_size(_byte_size(non_trainable))})")
        self.print_fn("_" * self.line_length)
