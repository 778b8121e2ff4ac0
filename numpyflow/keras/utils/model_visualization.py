"""`keras.utils.plot_model` and `model_to_dot`: a model's layer graph, drawn by Graphviz.

Each layer is a box; an arrow goes from a layer to each layer called on its output, as
recorded in the functional graph (each layer's inbound nodes that belong to the model).
Sequential models draw their layers in a chain; subclassed models are one box. With
`expand_nested=True` a nested Sequential or functional model is a dashed cluster of its
own layers instead of one box. The graph is built with pydot (`pip install
numpyflow[plot]`) and laid out by Graphviz's `dot` program (Debian: `apt-get install
graphviz`); neither is needed to import numpyflow.

    >>> import numpyflow as tf
    >>> inputs = tf.keras.Input((4,), name="features")
    >>> outputs = tf.keras.layers.Dense(2, name="scores")(inputs)
    >>> model = tf.keras.Model(inputs, outputs)
    >>> tf.keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
"""

import html
import os
import shutil
import subprocess

from numpyflow.framework import nest
from numpyflow.keras.graph.keras_tensor import KerasTensor

__all__ = ["model_to_dot", "plot_model"]

_PYDOT_MISSING = ("You must install pydot (`pip install numpyflow[plot]`, or `pip install "
                  "pydot`) for `{}` to work.")
_GRAPHVIZ_MISSING = ("You must install Graphviz for `plot_model` to work: its `dot` program "
                     "was not found on PATH. On Debian/Ubuntu: `apt-get install graphviz`; "
                     "elsewhere see https://graphviz.org/download/.")
_RENDER_TIMEOUT_S = 300


def _import_pydot(function_name):
    try:
        import pydot
    except ImportError as error:
        raise ImportError(_PYDOT_MISSING.format(function_name)) from error
    return pydot


def _check_options(function_name, kwargs):
    if "layer_range" in kwargs:
        raise NotImplementedError(
            f"{function_name}: `layer_range` is not supported (Keras 3 removed it too). "
            f"Received: layer_range={kwargs['layer_range']!r}. Plot a sub-model instead: "
            f"keras.Model(first_layer.input, last_layer.output).")
    if kwargs:
        raise ValueError(f"{function_name}: unrecognized keyword arguments: {sorted(kwargs)}.")


def _check_built(model):
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not yet been built. Build the model first "
                         f"by calling `build()` or by calling the model on a batch of data.")


def _is_graph_model(layer):
    """Whether `layer` is a Sequential or functional model (drawn as a graph of layers)."""
    from numpyflow.keras.models.functional import Functional
    from numpyflow.keras.models.sequential import Sequential
    return isinstance(layer, (Functional, Sequential))


def _is_sequential(model):
    from numpyflow.keras.models.sequential import Sequential
    return isinstance(model, Sequential)


# -- the graph's contents ---------------------------------------------------------------------

def _model_nodes(model):
    """{id(node): node} for the layer calls that make up a functional or Sequential model."""
    if _is_sequential(model):
        calls = [x._keras_history for x in model._graph_outputs]
        return {id(layer._inbound_nodes[i]): layer._inbound_nodes[i] for layer, i, _ in calls}
    return {id(node): node for node in model._nodes}


def _layer_node(layer, nodes):
    """The first call of `layer` that belongs to the model whose calls are `nodes`."""
    for node in layer._inbound_nodes:
        if id(node) in nodes:
            return node
    return None


def _shape_text(structure):
    def text(x):
        return str(tuple(x.shape)) if isinstance(x, KerasTensor) else repr(x)
    if isinstance(structure, dict):
        return ", ".join(f"{key}: {text(value)}" for key, value in structure.items())
    if isinstance(structure, (list, tuple)):
        return "[" + ", ".join(text(x) for x in nest.flatten(structure)) + "]"
    return text(structure)


def _dtype_text(structure):
    names = [x.dtype.name for x in nest.flatten(structure) if isinstance(x, KerasTensor)]
    return names[0] if len(names) == 1 else (f"[{', '.join(names)}]" if names else "?")


def _activation_name(activation):
    name = getattr(activation, "name", None) or getattr(activation, "__name__", None)
    return name if isinstance(name, str) else str(activation)


def _cell(text, bgcolor="white", color=None, colspan=None):
    span = f' colspan="{colspan}"' if colspan else ""
    font = f' color="{color}"' if color else ""
    return (f'<td bgcolor="{bgcolor}"{span}><font point-size="14"{font}>{text}</font></td>')


def _layer_label(layer, node, options):
    """The box of one layer: an HTML-like Graphviz table, laid out as Keras 3 draws it."""
    class_name = html.escape(type(layer).__name__)
    title = (f"<b>{html.escape(layer.name)}</b> ({class_name})" if options["show_layer_names"]
             else f"<b>{class_name}</b>")
    rows, cells = [], []
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        rows.append(f"Activation: <b>{html.escape(_activation_name(activation))}</b>")
    if options["show_shapes"]:
        if class_name != "InputLayer":
            shape = _shape_text(node.call_args[0]) if node and node.call_args else "?"
            cells.append(_cell(f"Input shape: <b>{html.escape(shape)}</b>"))
        shape = _shape_text(node.outputs) if node else "?"
        cells.append(_cell(f"Output shape: <b>{html.escape(shape)}</b>"))
    if options["show_dtype"]:
        dtype = _dtype_text(node.outputs) if node else "?"
        cells.append(_cell(f"Output dtype: <b>{html.escape(dtype)}</b>"))
    if options["show_trainable"] and layer.weights:
        cells.append(_cell("<b>Trainable</b>", "forestgreen", "white") if layer.trainable
                     else _cell("<b>Non-trainable</b>", "firebrick", "white"))
    colspan = max(1, len(cells))
    table = ['<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">',
             f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" '
             f'color="white">{title}</font></td></tr>']
    table += [f"<tr>{_cell(text, colspan=colspan)}</tr>" for text in rows]
    if cells:
        table.append(f"<tr>{''.join(cells)}</tr>")
    table.append("</table>>")
    return "".join(table)


def _add_layer(dot, pydot, layer, node, options):
    box = pydot.Node(str(id(layer)), label=_layer_label(layer, node, options))
    box.set("fontname", "Helvetica")
    box.set("border", "0")
    box.set("margin", "0")
    dot.add_node(box)


def _edge_source(layer, tensor_index):
    """The drawn layer that produced output `tensor_index` of `layer` (inside a cluster
    when `layer` is an expanded model)."""
    while _is_graph_model(layer):
        layer, _, tensor_index = layer.outputs[tensor_index]._keras_history
    return layer


def _edge_destination(layer, input_index):
    """The drawn layer that receives input `input_index` of `layer` (inside a cluster when
    `layer` is an expanded model: its InputLayer, or a Sequential model's first layer)."""
    while _is_graph_model(layer):
        if _is_sequential(layer):
            layer = layer.layers[0]
        else:
            layer = layer.inputs[input_index]._keras_history[0]
            input_index = 0
    return layer


def _add_edge(dot, pydot, source, destination, drawn):
    key = (id(source), id(destination))
    if key not in drawn:
        drawn.add(key)
        edge = pydot.Edge(str(id(source)), str(id(destination)))
        edge.set("penwidth", "2")
        dot.add_edge(edge)


# -- public API -------------------------------------------------------------------------------

def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """Converts a Keras model to a `pydot.Dot` graph of its layers.

    Args:
      model: A built Keras model.
      show_shapes: Whether to show each layer's input and output shapes.
      show_dtype: Whether to show each layer's output dtype.
      show_layer_names: Whether to show layer names (else only class names).
      rankdir: Graphviz `rankdir`: "TB" draws top to bottom, "LR" left to right.
      expand_nested: Whether to draw nested Sequential/functional models as clusters of
        their layers.
      dpi: Image resolution in dots per inch.
      subgraph: Whether to return a `pydot.Cluster` (used for nested models).
      show_layer_activations: Whether to show the `activation` of layers that have one.
      show_trainable: Whether to show whether each layer with weights is trainable.
      splines: Graphviz `splines`, how edges are drawn: "ortho" (right angles), "curved",
        "polyline", "spline" or "line".

    Returns:
      A `pydot.Dot`, or a `pydot.Cluster` when `subgraph=True`.

    Raises:
      ValueError: The model is not built, or an unknown keyword argument was given.
      NotImplementedError: `layer_range` was given.
      ImportError: pydot is not installed.

    Example:
      >>> import numpyflow as tf
      >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
      >>> dot = tf.keras.utils.model_to_dot(model)  # doctest: +SKIP
      >>> "dense" in dot.to_string()  # doctest: +SKIP
      True
    """
    _check_options("model_to_dot", kwargs)
    _check_built(model)
    pydot = _import_pydot("model_to_dot")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations,
                   show_trainable=show_trainable)
    if not _is_graph_model(model):  # A subclassed model: one box.
        _add_layer(dot, pydot, model, None, options)
        return dot

    nodes = _model_nodes(model)
    layers = model.layers
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            dot.add_subgraph(model_to_dot(layer, rankdir=rankdir, expand_nested=True, dpi=dpi,
                                          subgraph=True, splines=splines, **options))
        else:
            _add_layer(dot, pydot, layer, _layer_node(layer, nodes), options)

    resolve = expand_nested
    drawn = set()
    if _is_sequential(model):  # A chain; its InputLayer is not drawn, as in Keras.
        for before, after in zip(layers, layers[1:]):
            source = _edge_source(before, 0) if resolve else before
            destination = _edge_destination(after, 0) if resolve else after
            _add_edge(dot, pydot, source, destination, drawn)
        return dot
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) not in nodes:
                continue  # A call of a shared layer in another model.
            for input_index, tensor in enumerate(node.input_tensors):
                source, _, tensor_index = tensor._keras_history
                destination = layer
                if resolve:
                    source = _edge_source(source, tensor_index)
                    destination = _edge_destination(layer, input_index)
                _add_edge(dot, pydot, source, destination, drawn)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws a model's layer graph with Graphviz and writes it to `to_file`.

    Needs pydot (`pip install numpyflow[plot]`) and Graphviz's `dot` program (Debian/Ubuntu:
    `apt-get install graphviz`). The file is written atomically: an existing file is
    replaced only by a complete new one.

    Args:
      model: A built Keras model.
      to_file: The image file; its extension is the Graphviz format ("png", "svg",
        "pdf", "dot", ...), "png" when it has none.
      show_shapes: Whether to show each layer's input and output shapes.
      show_dtype: Whether to show each layer's output dtype.
      show_layer_names: Whether to show layer names (tf.keras 2.x's default, True; Keras
        3's `plot_model` defaults to False).
      rankdir: "TB" draws top to bottom, "LR" left to right.
      expand_nested: Whether to draw nested models as clusters of their layers.
      dpi: Image resolution in dots per inch.
      show_layer_activations: Whether to show the `activation` of layers that have one.
      show_trainable: Whether to show whether each layer with weights is trainable.
      splines: How edges are drawn: "ortho", "curved", "polyline", "spline" or "line".

    Returns:
      An `IPython.display.Image` of the file when IPython is installed and the format is
      not PDF (so a notebook shows it), else None.

    Raises:
      ImportError: pydot or Graphviz is not installed; the message says what to install.
      ValueError: The model is not built, an unknown keyword argument was given, or
        Graphviz rejected the format.
      NotImplementedError: `layer_range` was given.

    Example:
      >>> import numpyflow as tf
      >>> inputs = tf.keras.Input((4,), name="features")
      >>> model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs))
      >>> tf.keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
    """
    _check_options("plot_model", kwargs)
    _check_built(model)
    _import_pydot("plot_model")
    program = shutil.which("dot")
    if program is None:
        raise ImportError(_GRAPHVIZ_MISSING)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    image = _render(program, dot.to_string(), extension, to_file)
    from numpyflow.framework.file_safety import atomic_path
    with atomic_path(to_file) as tmp:
        with open(tmp, "wb") as f:
            f.write(image)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


def _render(program, source, image_format, to_file):
    """The bytes of `source` (Graphviz's dot language) laid out and drawn by `program`."""
    try:
        result = subprocess.run([program, f"-T{image_format}"], input=source.encode("utf-8"),
                                capture_output=True, timeout=_RENDER_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise ImportError(_GRAPHVIZ_MISSING) from error
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise ValueError(f"plot_model: Graphviz ({program}) could not draw {to_file!r} in "
                         f"format {image_format!r} (from the file's extension): {message}")
    return result.stdout
