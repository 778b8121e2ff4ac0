"""The traced graph (framework/graph.py): what tracing records, freezing, pruning, and
the name scopes Keras layers put on equations."""

import doctest
import importlib

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import graph as graph_module
from numpyflow.framework import tracing
from numpyflow.framework.graph import Assignment, Constant, Saved, Value, VariableRead


@pytest.mark.parametrize("name", ["numpyflow.framework.graph", "numpyflow.framework.name_scope",
                                  "numpyflow.framework.function"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


def test_equations_record_primitives_inputs_attributes_and_outputs():
    v = tf.Variable(np.ones((3, 2), np.float32))

    def f(x):
        return tf.reduce_sum(tf.matmul(x, v) + 1.0, axis=1)

    g = tracing.trace_graph(f, np.zeros((4, 3), np.float32))
    matmul, add, total = g.equations
    assert [eq.primitive.name for eq in g.equations] == ["MatMul", "AddV2", "Sum"]
    (argument,) = g.arguments
    assert isinstance(argument, Value) and argument.shape == (4, 3) and argument.dtype == np.float32
    assert matmul.inputs[0] is argument and isinstance(matmul.inputs[1], VariableRead)
    assert matmul.inputs[1].variable is v
    assert isinstance(add.inputs[1], Constant) and float(add.inputs[1].value) == 1.0
    assert add.inputs[0] is matmul.output
    assert total.attrs == {"axis": (1,), "keepdims": False}
    assert total.output.shape == (4,)
    assert g.outputs is total.output
    assert g.variables() == [matmul.inputs[1]]


def test_assignments_and_saved_values_are_atoms_of_the_graph():
    w = tf.Variable(np.ones((1, 1, 1, 1), np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            y = tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "VALID"), 2, 2, "VALID")
            loss = tf.reduce_sum(y)
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss

    g = tracing.trace_graph(step, np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1))
    assert isinstance(g.body[-1], Assignment) and g.body[-1].variable.variable is w
    (pool,) = [eq for eq in g.equations if eq.primitive.name == "MaxPool"]
    saved = pool.outputs[1]
    assert isinstance(saved, Saved) and saved.name == pool.output.name + "s"
    readers = [eq for eq in g.equations
               if any(isinstance(a, Saved) and (a is saved or a.base is saved) for a in eq.operands())]
    assert readers, "the pooling gradient reads what the forward saved"


def test_constants_alone_fold_away_and_random_ops_do_not():
    def f(x):
        scale = tf.constant(2.0) * 3.0  # Constants only: no equation.
        noise = tf.random.uniform((3,), seed=1)
        return x * scale + noise

    g = tracing.trace_graph(f, np.zeros(3, np.float32))
    names = [eq.primitive.name for eq in g.equations]
    assert names.count("Mul") == 1 and any("Random" in n or "Uniform" in n for n in names)


def test_frozen_reads_variables_as_constants_and_folds_what_only_they_feed():
    v = tf.Variable(np.full((2,), 4.0, np.float32))

    def f(x):
        return x * tf.math.rsqrt(v + 1e-3) + tf.Variable(1.0, trainable=False)

    g = tracing.trace_graph(f, np.ones(2, np.float32))
    frozen = graph_module.frozen(g)
    assert [eq.primitive.name for eq in frozen.equations] == ["Mul", "AddV2"]
    scale = frozen.equations[0].inputs[1]
    assert isinstance(scale, Constant)
    np.testing.assert_allclose(scale.value, 1 / np.sqrt(4.0 + 1e-3), rtol=1e-6)
    assert not frozen.variables()
    assert [eq.primitive.name for eq in g.equations][:2] == ["AddV2", "Rsqrt"]  # Original kept.


def test_frozen_drops_assignments_and_what_only_they_needed():
    counter = tf.Variable(0.0)

    def f(x):
        counter.assign_add(tf.reduce_sum(x))
        return x * 2.0

    frozen = graph_module.frozen(tracing.trace_graph(f, np.ones(3, np.float32)))
    assert [eq.primitive.name for eq in frozen.body] == ["Mul"]


def test_pruned_keeps_what_outputs_and_assignments_need():
    def f(x):
        unused = tf.exp(x)  # noqa: F841
        return tf.square(x)

    g = tracing.trace_graph(f, np.ones(3, np.float32))
    assert [eq.primitive.name for eq in graph_module.pruned(g).body] == ["Square"]
    assert [eq.primitive.name for eq in g.body] == ["Exp", "Square"]


def test_consumers_lists_the_readers_of_each_value():
    g = tracing.trace_graph(lambda x: tf.exp(x) + tf.square(x), np.ones(2, np.float32))
    readers = graph_module.consumers(g)
    assert [eq.primitive.name for eq in readers["a0"]] == ["Exp", "Square"]


def test_untraceable_python_raises_with_the_reason():
    def branches(x):
        return x if float(tf.reduce_sum(x)) > 0 else -x

    with pytest.raises(tracing.UntraceableError, match=r"float\(\)"):
        tracing.trace_graph(branches, np.ones(2, np.float32))


def test_keras_layers_name_the_equations_they_record():
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, name="hidden"),
                                 tf.keras.layers.Dense(2, activation="softmax", name="head")],
                                name="net")
    g = tracing.trace_graph(lambda x: model(x), np.zeros((2, 4), np.float32))
    scopes = {eq.primitive.name + "@" + eq.scope for eq in g.equations}
    assert "MatMul@net/hidden" in scopes and "Softmax@net/head" in scopes


def test_eager_layer_calls_open_no_scopes():
    seen = []

    def probe(x):
        with tf.name_scope("probe") as scope:
            seen.append(scope)
        return x

    tf.keras.layers.Lambda(probe)(tf.zeros((1, 2)))
    assert seen == ["probe/"]  # No enclosing layer scope outside tracing.
    assert tf.inside_function() is False


def test_name_scope_nests_resets_and_is_per_thread():
    import threading
    with tf.name_scope("a") as a:
        with tf.name_scope("b") as b:
            with tf.name_scope("top/") as top:
                assert (a, b, top) == ("a/", "a/b/", "top/")
            other = []

            def in_thread():
                with tf.name_scope("t") as scope:
                    other.append(scope)

            thread = threading.Thread(target=in_thread)
            thread.start()
            thread.join()
            assert other == ["t/"]
    with pytest.raises(TypeError, match="must be a string"):
        tf.name_scope(3)


def test_inside_function_is_true_while_tracing():
    seen = []

    @tf.function
    def f(x):
        seen.append(tf.inside_function())
        return x + 1.0

    f(tf.ones(2))
    assert seen == [True]


def test_traces_that_differ_in_a_constant_are_told_apart():
    first = tracing.Trace("f")
    second = tracing.Trace("f")
    for trace, constant in ((first, 1.0), (second, 2.0)):
        x = tf.ones(2)
        trace.add_argument(x)
        with trace.recording():
            trace.set_outputs(x * tf.constant(constant))
    assert "value of c0 changed" in first.difference(second)
    assert first.difference(first) is None


def test_printed_graph_shows_types_and_outputs():
    g = tracing.trace_graph(lambda x: {"y": tf.nn.relu(x)}, np.zeros((2, 3), np.float32))
    text = str(g)
    assert "a0: float32[2,3]" in text and "t0: float32[2,3] = Relu(a0)" in text
    assert "return {'y': t0}" in text


def test_a_function_returning_a_sparse_tensor_stays_eager_and_right():
    @tf.function
    def sparse_of(x):
        return tf.SparseTensor([[0]], x * 2.0, [2])  # Built from traced values, no reads.

    for value in (1.0, 3.0, 5.0, 7.0):
        np.testing.assert_array_equal(
            tf.sparse.to_dense(sparse_of(tf.constant([value]))).numpy(), [value * 2.0, 0.0])
    assert sparse_of.plan_sources() == [] and "SparseTensor" in sparse_of.eager_reasons()[0]
