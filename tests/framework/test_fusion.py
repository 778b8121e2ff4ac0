"""framework/fusion.py: graph rewrites before a plan is compiled give the same numbers, bit
for bit, and apply only where every reader of what they change is accounted for."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import fusion, plan, tracing
from numpyflow.ops import conv_ops


def primitive_names(graph):
    return [eq.primitive.name for eq in graph.equations]


def run_both(graph, *arrays):
    """(outputs of the plan without rewrites, outputs with them), as NumPy arrays."""
    results = []
    for g in (graph, fusion.fused(graph)):
        outputs = plan.compile_plan(g)(list(arrays))
        results.append([np.asarray(t.numpy()) for t in tf.nest.flatten(outputs)])
    return results


def pool_step(ksize, strides, padding, power=2.):
    """Relu -> max pool, a loss of the pooled values, and its gradient for x."""
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            pooled = tf.nn.max_pool2d(tf.nn.relu(x), ksize, strides, padding)
            loss = tf.reduce_sum(pooled ** power * 0.5 + pooled)
        return pooled, tape.gradient(loss, x)
    return step


def tied_input(shape, dtype, seed=0):
    """Values with many ties (zeros, repeated positives) and negatives."""
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 4, shape).astype(dtype)


@pytest.mark.parametrize("shape,ksize,strides,padding", [
    ((2, 8, 8, 3), 2, 2, "VALID"),     # The 2x2 fast path of the pooling kernels.
    ((1, 7, 5, 4), 2, 2, "SAME"),      # Odd sizes, padded windows.
    ((3, 9, 9, 2), 3, 2, "VALID"),     # Overlapping windows: gradients add up.
    ((2, 6, 7, 1), (2, 3), 1, "SAME"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_moves_after_the_pool_with_the_same_numbers(shape, ksize, strides, padding, dtype):
    for x in (tied_input(shape, dtype),
              np.random.default_rng(1).standard_normal(shape).astype(dtype)):
        graph = tracing.trace_graph(pool_step(ksize, strides, padding), x)
        rewritten = fusion.fused(graph)
        names = primitive_names(rewritten)
        assert names.index("MaxPool") < names.index("Relu")
        assert names.index("ReluGrad") < names.index("MaxPoolGrad")
        # The ReLU and its gradient now run on the pooled shape.
        pooled_shape = rewritten.equations[names.index("MaxPool")].output.shape
        for eq in rewritten.equations:
            if eq.primitive.name in ("Relu", "ReluGrad"):
                assert eq.output.shape == pooled_shape
        before, after = run_both(graph, x)
        for got, want in zip(after, before):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        eager = pool_step(ksize, strides, padding)(tf.constant(x))
        for got, want in zip(after, eager):
            np.testing.assert_array_equal(got, want.numpy())


def test_a_forward_only_graph_is_rewritten_too():
    x = tied_input((1, 4, 6, 2), np.float32)
    graph = tracing.trace_graph(lambda x: tf.nn.max_pool2d(tf.nn.relu(x), 2, 2, "VALID") + 1., x,
                                name="forward")
    assert primitive_names(fusion.fused(graph))[:2] == ["MaxPool", "Relu"]
    before, after = run_both(graph, x)
    np.testing.assert_array_equal(after[0], before[0])


def test_batch_of_one_and_all_negative_windows():
    x = -np.abs(tied_input((1, 4, 4, 3), np.float32)) - 1.
    x[0, 0, 0, 0] = 2.  # One window with a positive max; the others are all negative.
    graph = tracing.trace_graph(pool_step(2, 2, "VALID"), x)
    before, after = run_both(graph, x)
    for got, want in zip(after, before):
        np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(after[1]) == 1


def test_not_rewritten_when_the_rectified_array_has_another_reader():
    def step(x):
        rectified = tf.nn.relu(x)
        return tf.nn.max_pool2d(rectified, 2, 2, "VALID"), tf.reduce_sum(rectified)

    graph = tracing.trace_graph(step, tied_input((1, 4, 4, 1), np.float32))
    assert fusion.fused(graph) is graph


def test_not_rewritten_when_the_rectified_array_is_an_output():
    def step(x):
        rectified = tf.nn.relu(x)
        return rectified, tf.nn.max_pool2d(rectified, 2, 2, "VALID")

    graph = tracing.trace_graph(step, tied_input((1, 4, 4, 1), np.float32))
    assert fusion.fused(graph) is graph


def test_not_rewritten_when_the_relu_gradient_comes_from_elsewhere():
    # The ReLU's gradient is the sum of the pool's and another path's: the mask must stay
    # on the full-size array.
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            rectified = tf.nn.relu(x)
            pooled = tf.nn.max_pool2d(rectified, 2, 2, "VALID")
            loss = tf.reduce_sum(pooled) + tf.reduce_sum(rectified * rectified)
        return tape.gradient(loss, x)

    x = tied_input((1, 4, 4, 2), np.float32)
    graph = tracing.trace_graph(step, x)
    rewritten = fusion.fused(graph)
    assert primitive_names(rewritten) == primitive_names(graph)


def test_not_rewritten_when_the_relu_reads_a_variable():
    # The pool would read the Variable later than the ReLU did, after its assignment here.
    variable = tf.Variable(tied_input((1, 4, 4, 1), np.float32))

    def step(x):
        rectified = tf.nn.relu(variable)
        variable.assign(x)
        return tf.nn.max_pool2d(rectified, 2, 2, "VALID")

    x = -np.ones((1, 4, 4, 1), np.float32)
    graph = tracing.trace_graph(step, x)
    assert fusion.fused(graph) is graph


def test_not_rewritten_when_a_window_may_hold_only_padding():
    # Explicit padding as wide as the window: a window of padding alone pools to -inf,
    # which a ReLU after the pool would turn into 0.
    def step(x):
        return conv_ops.MaxPool(tf.nn.relu(x), ksize=(2, 2), strides=(1, 1),
                                pads=((2, 0), (0, 0)))

    x = tied_input((1, 3, 3, 1), np.float32)
    graph = tracing.trace_graph(step, x)
    assert fusion.fused(graph) is graph
    assert not fusion._windows_hold_input({"ksize": (2, 2), "pads": ((2, 0), (0, 0))})
    assert fusion._windows_hold_input({"ksize": (2, 2), "pads": ((1, 1), (0, 1))})
    assert not fusion._windows_hold_input({"ksize": (2, 2)})  # A form it does not know.


def test_the_original_graph_is_kept_and_a_second_pass_changes_nothing():
    x = tied_input((1, 4, 4, 1), np.float32)
    graph = tracing.trace_graph(pool_step(2, 2, "VALID"), x)
    text = str(graph)
    fusion.fused(graph)
    assert str(graph) == text
    once = fusion.fused(graph)
    assert str(once) != text
    assert str(fusion.fused(once)) == str(once)  # Nothing left to rewrite.


def cnn(seed):
    tf.random.set_seed(seed)
    inputs = tf.keras.Input((8, 8, 3))
    x = tf.keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.ReLU()(x)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = tf.keras.layers.Conv2D(5, 3, activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D(2, padding="same")(x)
    outputs = tf.keras.layers.Dense(3, activation="softmax")(tf.keras.layers.Flatten()(x))
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def train_both(make_model, x, y, monkeypatch):
    """Two copies of `make_model(seed)`'s model with the same weights, each fit on (x, y)
    and asked for predictions: the first compiled without any rewrite (the plan compiler,
    plan.compile_plan, applies them). Returns (plain, rewritten), each as (model, fit
    history, predictions, the train step's plan source)."""
    plain, rewritten = make_model(0), make_model(1)
    rewritten.set_weights(plain.get_weights())
    results = []
    for model in (plain, rewritten):
        with monkeypatch.context() as patch:
            if model is plain:
                patch.setattr(fusion, "REWRITES", ())
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
            predictions = model.predict(x, batch_size=8, verbose=0)
            (source,) = model.train_function.plan_sources()
        results.append((model, history.history, predictions, source))
    (model, history, predictions, _), (other, other_history, other_predictions, _) = results
    assert other_history == history
    for got, want in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(other_predictions, predictions)
    return results


def test_a_keras_cnn_trains_and_predicts_as_without_rewrites(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    plain, rewritten = train_both(cnn, x, y, monkeypatch)
    assert "_before_relu" not in plain[3]
    # Both blocks' pools run before their ReLU.
    assert rewritten[3].count("_before_relu_s = f_MaxPool(") == 2
    assert any("_before_relu_s = f_MaxPool(" in source
               for source in rewritten[0].predict_function.plan_sources())


def test_a_second_derivative_through_the_pool_gives_the_same_numbers():
    # The outer tape records the gradient rules too: MaxPoolGradGrad reads the rectified
    # array, a reader the rewrite does not know, so it leaves the graph as it is.
    def step(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                pooled = tf.nn.max_pool2d(tf.nn.relu(x), 2, 2, "VALID")
                loss = tf.reduce_sum(pooled * pooled * pooled)
            gradient = inner.gradient(loss, x)
            total = tf.reduce_sum(gradient * gradient)
        return gradient, outer.gradient(total, x)

    x = np.random.default_rng(2).standard_normal((2, 4, 6, 3)).astype(np.float32)
    graph = tracing.trace_graph(step, x)
    assert "MaxPoolGradGrad" in primitive_names(graph)
    assert fusion.fused(graph) is graph


# -- sliced_output_gradient ---------------------------------------------------------------------

UNITS = 4


def lstm_inputs(batch=3, steps=6, features=2, seed=0):
    rng = np.random.default_rng(seed)

    def r(*shape):
        return rng.uniform(-1, 1, shape).astype(np.float32)
    return (r(batch, steps, features), r(features, 4 * UNITS), r(UNITS, 4 * UNITS), r(4 * UNITS))


def lstm_step(*keys, go_backwards=False, kind="LSTM"):
    """The recurrence op's gradients (kernel, recurrent kernel, bias, x) of a loss of the
    output slices `keys`, as a recurrent layer reads its last output and final states."""
    from numpyflow.ops import rnn_ops

    def step(x, kernel, recurrent, bias):
        zeros = tf.zeros((x.shape[0], UNITS))
        with tf.GradientTape() as tape:
            tape.watch([x, kernel, recurrent, bias])
            if kind == "LSTM":
                states = rnn_ops.lstm_sequence(x, zeros, zeros, kernel, recurrent, bias,
                                               go_backwards=go_backwards)
            elif kind == "GRU":  # (Bias as reset_after=False takes it.)
                states = rnn_ops.gru_sequence(x, zeros, kernel[:, :3 * UNITS],
                                              recurrent[:, :3 * UNITS], bias[:3 * UNITS],
                                              go_backwards=go_backwards, reset_after=False)
            else:
                states = rnn_ops.simple_rnn_sequence(x, zeros, kernel[:, :UNITS],
                                                     recurrent[:, :UNITS], bias[:UNITS],
                                                     go_backwards=go_backwards)
            loss = sum(tf.reduce_sum(tf.square(states[key]) * (1. + i))
                       for i, key in enumerate(keys))
        return tape.gradient(loss, [kernel, recurrent, bias, x])
    return step


def equation_with(graph, name):
    return [eq for eq in graph.equations if eq.primitive.name == name]


@pytest.mark.parametrize("key", [(slice(None), -1, slice(0, UNITS)),  # The last output.
                                 (slice(None), 2, slice(UNITS, None)),  # A step's c.
                                 (slice(1, None), -2)])  # Some rows, both states.
@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_sliced_lstm_output_gradient_is_never_made_dense(key, go_backwards):
    arrays = lstm_inputs()
    graph = tracing.trace_graph(lstm_step(key, go_backwards=go_backwards), *arrays)
    assert len(equation_with(graph, "StridedSliceGrad")) == 1
    rewritten = fusion.fused(graph)
    assert not equation_with(rewritten, "StridedSliceGrad")
    (gradient,) = equation_with(rewritten, "LSTMSequenceGrad")
    assert gradient.attrs["dy_slice"] == key
    before, after = run_both(graph, *arrays)
    for got, want in zip(after, before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["GRU", "SimpleRNN"])
def test_a_sliced_gru_or_simple_rnn_output_gradient_is_never_made_dense(kind):
    arrays = lstm_inputs()
    key = (slice(None), -1)
    graph = tracing.trace_graph(lstm_step(key, kind=kind), *arrays)
    rewritten = fusion.fused(graph)
    # (The weights' slices keep theirs.)
    assert len(equation_with(rewritten, "StridedSliceGrad")) == len(
        equation_with(graph, "StridedSliceGrad")) - 1
    (gradient,) = equation_with(rewritten, f"{kind}SequenceGrad")
    assert gradient.attrs["dy_slice"] == key
    before, after = run_both(graph, *arrays)
    for got, want in zip(after, before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("keys", [
    ((slice(None), slice(-2, None), slice(0, UNITS)),),  # More than one step.
    ((slice(None), -1, slice(0, UNITS)), (slice(None), -1, slice(UNITS, None))),  # Two slices.
    ((Ellipsis, -1),),  # Not (batch, time, width) by position.
])
def test_other_output_gradients_are_left_dense(keys):
    arrays = lstm_inputs()
    graph = tracing.trace_graph(lstm_step(*keys), *arrays)
    assert fusion.fused(graph) is graph
    before, after = run_both(graph, *arrays)
    for got, want in zip(after, before):
        np.testing.assert_array_equal(got, want)


def test_one_step_keys():
    assert fusion._one_step_key((slice(None), -1, slice(0, 4)))
    assert fusion._one_step_key((slice(2, None), np.int64(3)))
    for key in [(slice(None), slice(0, 1)), (slice(None), True), (0, -1), slice(None),
                (slice(None), -1, 0), (slice(None), -1, slice(None), slice(None)),
                (slice(None), -1, None)]:
        assert not fusion._one_step_key(key), key


def row_lstm(seed):
    tf.random.set_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input((7, 3)), tf.keras.layers.LSTM(5),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_a_keras_lstm_trains_as_without_rewrites(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 7, 3)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    plain, rewritten = train_both(row_lstm, x, y, monkeypatch)
    assert "f_StridedSliceGrad(" in plain[3]
    assert "f_StridedSliceGrad(" not in rewritten[3] and "dy_slice=" in rewritten[3]
