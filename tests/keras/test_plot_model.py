"""`keras.utils.plot_model` / `model_to_dot`: the layer graph as Graphviz draws it.

The dot-language checks need pydot; the image checks also need Graphviz's `dot` program
(`./dev` installs Debian's graphviz package). Each is skipped, with the reason, without them.
"""

import os
import shutil
import struct
import subprocess
import sys

import pytest

import numpyflow as tf
from numpyflow.keras import layers
from numpyflow.keras.utils import model_visualization

try:
    import pydot
except ImportError:
    pydot = None

needs_pydot = pytest.mark.skipif(
    pydot is None, reason="pydot is not installed (pip install numpyflow[plot])")
needs_graphviz = pytest.mark.skipif(
    pydot is None or shutil.which("dot") is None,
    reason="pydot or Graphviz's `dot` is missing (pip install numpyflow[plot]; "
           "apt-get install graphviz, which ./dev does)")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG: starts with {head[:8]!r}"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def two_input_model():
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((3,), name="b")
    x = layers.Concatenate(name="cat")([a, b])
    x = layers.Dense(5, activation="relu", name="hidden")(x)
    out = layers.Dense(1, name="out")(x)
    return tf.keras.Model([a, b], out, name="two_inputs")


def nested_model():
    """Outer functional model: input -> inner functional -> inner Sequential -> head."""
    inner_in = tf.keras.Input((4,), name="inner_in")
    inner = tf.keras.Model(inner_in, layers.Dense(6, name="inner_dense")(inner_in),
                           name="inner")
    seq = tf.keras.Sequential([layers.Dense(3, name="seq_a"), layers.Dense(2, name="seq_b")],
                              name="stack")
    x_in = tf.keras.Input((4,), name="x")
    out = layers.Dense(1, name="head")(seq(inner(x_in)))
    return tf.keras.Model(x_in, out, name="outer")


def names_by_id(dot):
    """{node name in the dot graph: the layer name in its label}, clusters included."""
    result = {}
    for node in dot.get_nodes():
        label = node.get("label")
        if label and "<b>" in label:
            result[node.get_name()] = label.split("<b>", 1)[1].split("</b>", 1)[0]
    for sub in dot.get_subgraphs():
        result.update(names_by_id(sub))
    return result


def edges(dot, names=None):
    """The graph's edges as (source layer name, destination layer name), clusters included."""
    names = names or names_by_id(dot)
    found = [(names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges()]
    for sub in dot.get_subgraphs():
        found += edges(sub, names)
    return sorted(found)


# -- the graph ------------------------------------------------------------------------------

@needs_pydot
def test_functional_two_inputs_nodes_and_edges(fresh_names):
    dot = tf.keras.utils.model_to_dot(two_input_model())
    assert sorted(names_by_id(dot).values()) == ["a", "b", "cat", "hidden", "out"]
    assert edges(dot) == [("a", "cat"), ("b", "cat"), ("cat", "hidden"), ("hidden", "out")]
    text = dot.to_string()
    assert "rankdir=TB" in text and "dpi=200" in text and "splines=ortho" in text
    assert "(Concatenate)" in text and "(InputLayer)" in text


@needs_pydot
def test_sequential_is_a_chain_without_its_input_layer(fresh_names):
    model = tf.keras.Sequential([tf.keras.Input((8,)), layers.Dense(4, name="d1"),
                                 layers.Dropout(0.5, name="drop"), layers.Dense(2, name="d2")])
    dot = tf.keras.utils.model_to_dot(model, rankdir="LR", dpi=96)
    assert sorted(names_by_id(dot).values()) == ["d1", "d2", "drop"]
    assert edges(dot) == [("d1", "drop"), ("drop", "d2")]
    assert "rankdir=LR" in dot.to_string() and "dpi=96" in dot.to_string()


@needs_pydot
def test_show_shapes_dtype_activations_trainable(fresh_names):
    model = two_input_model()
    model.get_layer("out").trainable = False
    plain = tf.keras.utils.model_to_dot(model).to_string()
    assert "shape:" not in plain and "float32" not in plain and "relu" not in plain
    assert "Trainable" not in plain
    text = tf.keras.utils.model_to_dot(
        model, show_shapes=True, show_dtype=True, show_layer_activations=True,
        show_trainable=True).to_string()
    assert "Input shape: <b>[(None, 4), (None, 3)]</b>" in text      # cat's two inputs
    assert "Output shape: <b>(None, 7)</b>" in text
    assert "Output shape: <b>(None, 1)</b>" in text
    assert "Output dtype: <b>float32</b>" in text
    assert "Activation: <b>relu</b>" in text
    assert text.count("<b>Trainable</b>") == 1 and text.count("<b>Non-trainable</b>") == 1


@needs_pydot
def test_show_layer_names_false_shows_class_names_only(fresh_names):
    dot = tf.keras.utils.model_to_dot(two_input_model(), show_layer_names=False)
    assert sorted(names_by_id(dot).values()) == ["Concatenate", "Dense", "Dense", "InputLayer",
                                                 "InputLayer"]
    assert "hidden" not in dot.to_string()


@needs_pydot
def test_nested_models_one_box_or_clusters(fresh_names):
    model = nested_model()
    flat = tf.keras.utils.model_to_dot(model)
    assert "cluster" not in flat.to_string()
    assert edges(flat) == sorted([("x", "inner"), ("inner", "stack"), ("stack", "head")])

    nested = tf.keras.utils.model_to_dot(model, expand_nested=True, show_shapes=True)
    clusters = {sub.get_name(): sub for sub in nested.get_subgraphs()}
    assert set(clusters) == {"cluster_inner", "cluster_stack"}
    assert sorted(names_by_id(clusters["cluster_inner"]).values()) == ["inner_dense", "inner_in"]
    assert sorted(names_by_id(clusters["cluster_stack"]).values()) == ["seq_a", "seq_b"]
    # Edges go into and out of the clusters, to the layers that receive and produce.
    assert edges(nested) == sorted([("x", "inner_in"), ("inner_in", "inner_dense"),
                                    ("inner_dense", "seq_a"), ("seq_a", "seq_b"),
                                    ("seq_b", "head")])


@needs_pydot
def test_sequential_inside_sequential(fresh_names):
    augment = tf.keras.Sequential([layers.RandomFlip("horizontal", name="flip"),
                                   layers.Rescaling(1 / 255, name="scale")], name="augment")
    model = tf.keras.Sequential([tf.keras.Input((8, 8, 1)), augment, layers.Flatten(name="flat"),
                                 layers.Dense(2, name="dense")])
    assert edges(tf.keras.utils.model_to_dot(model)) == [("augment", "flat"), ("flat", "dense")]
    nested = tf.keras.utils.model_to_dot(model, expand_nested=True, show_shapes=True)
    assert [sub.get_name() for sub in nested.get_subgraphs()] == ["cluster_augment"]
    assert edges(nested) == [("flat", "dense"), ("flip", "scale"), ("scale", "flat")]
    assert "Output shape: <b>(None, 8, 8, 1)</b>" in nested.to_string()


@needs_pydot
def test_shared_layer_draws_only_this_models_calls(fresh_names):
    shared = layers.Dense(3, name="shared")
    a, b = tf.keras.Input((3,), name="a"), tf.keras.Input((3,), name="b")
    first = tf.keras.Model(a, shared(a), name="first")
    second = tf.keras.Model(b, layers.Dense(1, name="top")(shared(b)), name="second")
    assert edges(tf.keras.utils.model_to_dot(first)) == [("a", "shared")]
    assert edges(tf.keras.utils.model_to_dot(second)) == [("b", "shared"), ("shared", "top")]
    text = tf.keras.utils.model_to_dot(second, show_shapes=True).to_string()
    assert "Output shape: <b>(None, 1)</b>" in text


@needs_pydot
def test_subclassed_model_is_one_box(fresh_names):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Net()
    model(tf.ones((1, 3)))
    dot = tf.keras.utils.model_to_dot(model)
    assert list(names_by_id(dot).values()) == ["net"] and edges(dot) == []


def test_unbuilt_model_and_bad_arguments():
    model = tf.keras.Sequential([layers.Dense(2)], name="lazy")
    for function in (tf.keras.utils.plot_model, tf.keras.utils.model_to_dot):
        with pytest.raises(ValueError, match="'lazy' has not yet been built"):
            function(model)
    with pytest.raises(NotImplementedError, match=r"layer_range.*Received: layer_range=\['a'"):
        tf.keras.utils.model_to_dot(model, layer_range=["a", "b"])
    with pytest.raises(ValueError, match=r"unrecognized keyword arguments: \['show_colors'\]"):
        tf.keras.utils.plot_model(model, show_colors=True)


# -- missing dependencies -------------------------------------------------------------------

def test_missing_pydot_names_the_extra(monkeypatch, tmp_path, fresh_names):
    monkeypatch.setitem(sys.modules, "pydot", None)  # `import pydot` now raises ImportError.
    model = two_input_model()
    with pytest.raises(ImportError, match=r"pip install numpyflow\[plot\].*`plot_model`"):
        tf.keras.utils.plot_model(model, to_file=str(tmp_path / "m.png"))
    with pytest.raises(ImportError, match=r"pip install numpyflow\[plot\].*`model_to_dot`"):
        tf.keras.utils.model_to_dot(model)
    assert not os.listdir(tmp_path)


@needs_pydot
def test_missing_graphviz_names_the_debian_package(monkeypatch, tmp_path, fresh_names):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # No `dot` on PATH.
    with pytest.raises(ImportError, match=r"Graphviz.*`dot`.*apt-get install graphviz"):
        tf.keras.utils.plot_model(two_input_model(), to_file=str(tmp_path / "m.png"))
    assert not os.listdir(tmp_path)


def test_import_numpyflow_loads_neither_pydot_nor_graphviz():
    code = ("import sys, numpyflow as tf; tf.keras.utils.plot_model; "
            "print(sorted(m for m in sys.modules if m.startswith(('pydot', 'IPython'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# -- images ---------------------------------------------------------------------------------

@needs_graphviz
def test_plot_model_writes_a_png(tmp_path, fresh_names):
    path = tmp_path / "model.png"
    result = tf.keras.utils.plot_model(two_input_model(), to_file=str(path), show_shapes=True)
    assert result is None or type(result).__name__ == "Image"  # IPython's, when installed.
    width, height = png_size(path)
    # Five boxes in four ranks at 200 dpi: well over 500 px tall, under 20000.
    assert 300 < width < 20000 and 500 < height < 20000, (width, height)
    assert path.stat().st_size > 5000
    assert os.listdir(tmp_path) == ["model.png"]  # No temporary file left beside it.

    small = tmp_path / "small.png"
    tf.keras.utils.plot_model(two_input_model(), to_file=small, show_shapes=True, dpi=100)
    small_width, small_height = png_size(small)
    assert abs(width / small_width - 2) < 0.1 and abs(height / small_height - 2) < 0.1


@needs_graphviz
def test_plot_model_format_from_extension(tmp_path, fresh_names):
    svg = tmp_path / "model.svg"
    tf.keras.utils.plot_model(nested_model(), to_file=str(svg), expand_nested=True)
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for name in ("x", "inner_in", "inner_dense", "seq_a", "seq_b", "head"):
        assert f">{name}<" in text, name
    no_extension = tmp_path / "graph"
    tf.keras.utils.plot_model(nested_model(), to_file=str(no_extension))
    png_size(no_extension)  # No extension: PNG, as Keras.


@needs_graphviz
def test_bad_format_raises_and_keeps_the_old_file(tmp_path, fresh_names):
    path = tmp_path / "model.nosuchformat"
    path.write_bytes(b"earlier plot")
    with pytest.raises(ValueError, match=r"format 'nosuchformat'.*not recognized"):
        tf.keras.utils.plot_model(two_input_model(), to_file=str(path))
    assert path.read_bytes() == b"earlier plot"
    assert os.listdir(tmp_path) == ["model.nosuchformat"]
