"""Keras masks: how layers hand them on, and how losses and metrics weigh by them.

The masks here come from a tiny test layer (`ZeroStepMask`: a step whose features are all
zero is masked out), so that propagation is tested without Embedding or Masking.
"""

import warnings

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras


class ZeroStepMask(keras.layers.Layer):
    """Emits a mask: True for the steps with some nonzero feature (like Masking(0.))."""

    def compute_mask(self, inputs, previous_mask):
        return tf.reduce_any(tf.not_equal(inputs, 0.), axis=-1)


class MaskRecorder(keras.layers.Layer):
    """Doubles its input; remembers the mask `call` received."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.received = []

    def call(self, inputs, mask=None):
        self.received.append(mask)
        return inputs * 2.


class NoMaskSupport(keras.layers.Layer):
    def call(self, inputs):
        return inputs + 1.


X = np.array([[[1., 2.], [3., 4.], [0., 0.]],
              [[5., 6.], [0., 0.], [0., 0.]]], dtype="float32")
EXPECTED_MASK = np.array([[True, True, False], [True, False, False]])


def mask_of(tensor):
    mask = getattr(tensor, "_keras_mask", None)
    return None if mask is None else mask.numpy()


# -- the Layer contract -----------------------------------------------------------------------

def test_supports_masking_defaults_as_keras_3():
    assert ZeroStepMask().supports_masking           # Overrides compute_mask.
    assert not NoMaskSupport().supports_masking
    assert keras.layers.Dense(2).supports_masking     # Keras 3: Dense passes masks on.
    assert not keras.layers.Flatten().supports_masking


def test_default_compute_mask_passes_previous_mask_only_when_supported():
    mask = tf.constant([[True, False]])
    assert MaskRecorder().compute_mask(None, mask) is mask
    assert NoMaskSupport().compute_mask(None, mask) is None


def test_mask_set_on_output_and_given_to_call():
    recorder = MaskRecorder()
    masked = ZeroStepMask()(X)
    np.testing.assert_array_equal(mask_of(masked), EXPECTED_MASK)
    out = recorder(masked)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), EXPECTED_MASK)
    np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK)
    np.testing.assert_allclose(out.numpy(), X * 2)


def test_explicit_mask_argument_wins_and_propagates():
    recorder = MaskRecorder()
    explicit = tf.constant([[False, True, True], [True, True, True]])
    out = recorder(ZeroStepMask()(X), mask=explicit)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), explicit.numpy())
    np.testing.assert_array_equal(mask_of(out), explicit.numpy())
    out = MaskRecorder()(tf.constant(X), mask=explicit)   # No mask on the input at all.
    np.testing.assert_array_equal(mask_of(out), explicit.numpy())


def test_no_mask_no_mask_argument():
    recorder = MaskRecorder()
    out = recorder(tf.constant(X))
    assert recorder.received[-1] is None
    assert mask_of(out) is None


def test_layer_without_masking_support_warns_and_drops_the_mask():
    masked = ZeroStepMask()(X)
    with pytest.warns(UserWarning, match="does not support masking"):
        out = NoMaskSupport()(masked)
    assert mask_of(out) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NoMaskSupport()(tf.constant(X))  # No mask: no warning.


@pytest.mark.filterwarnings("ignore:.*does not support masking")
def test_list_inputs_get_a_list_of_masks():
    class ListRecorder(keras.layers.Layer):
        def call(self, inputs, mask=None):
            self.received = mask
            return inputs[0] + inputs[1]

    layer = ListRecorder()
    masked = ZeroStepMask()(X)
    layer([masked, tf.constant(X)])
    assert isinstance(layer.received, list) and layer.received[1] is None
    np.testing.assert_array_equal(layer.received[0].numpy(), EXPECTED_MASK)


@pytest.mark.filterwarnings("ignore:.*does not support masking")
def test_named_mask_arguments_are_filled_from_each_input():
    class TwoInputs(keras.layers.Layer):
        def call(self, query, value, query_mask=None, value_mask=None):
            self.received = (query_mask, value_mask)
            return query

    layer = TwoInputs()
    layer(ZeroStepMask()(X), tf.constant(X))
    np.testing.assert_array_equal(layer.received[0].numpy(), EXPECTED_MASK)
    assert layer.received[1] is None
    layer(tf.constant(X), value=ZeroStepMask()(X))
    assert layer.received[0] is None
    np.testing.assert_array_equal(layer.received[1].numpy(), EXPECTED_MASK)


def test_cast_inputs_keep_their_mask():
    masked = ZeroStepMask(dtype="float64")(X.astype("float64"))
    recorder = MaskRecorder()                     # float32: the input is cast.
    recorder(masked)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), EXPECTED_MASK)


def test_existing_layers_pass_masks_through():
    masked = ZeroStepMask()(X)
    for layer in (keras.layers.Dense(3), keras.layers.Dropout(0.5),
                  keras.layers.Activation("relu"), keras.layers.LayerNormalization()):
        np.testing.assert_array_equal(mask_of(layer(masked)), EXPECTED_MASK, layer.name)


# -- models -----------------------------------------------------------------------------------

def _functional(dense_units=2):
    inputs = keras.Input((3, 2))
    x = ZeroStepMask()(inputs)
    recorder = MaskRecorder()
    x = recorder(x)
    outputs = keras.layers.Dense(dense_units)(x)
    return keras.Model(inputs, outputs), recorder


def test_functional_model_propagates_masks():
    model, recorder = _functional()
    out = model(X)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), EXPECTED_MASK)
    np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK)


@pytest.mark.filterwarnings("error")
def test_sequential_and_nested_models_propagate_masks():
    recorder = MaskRecorder()
    inner = keras.Sequential([keras.Input((3, 2)), recorder, keras.layers.Dense(2)])
    outer = keras.Sequential([keras.Input((3, 2)), ZeroStepMask(), inner])
    out = outer(X)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), EXPECTED_MASK)
    np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK)


def test_model_mask_argument_reaches_its_layers():
    recorder = MaskRecorder()
    inputs = keras.Input((3, 2))
    model = keras.Model(inputs, recorder(inputs))
    explicit = tf.constant(EXPECTED_MASK)
    out = model(tf.constant(X), mask=explicit)
    np.testing.assert_array_equal(recorder.received[-1].numpy(), EXPECTED_MASK)
    np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK)


def test_compiled_model_call_keeps_output_masks(monkeypatch):
    """`model(x)` of built-in layers runs as a compiled plan: masks come out of it too."""
    from numpyflow.keras.models import model as model_module
    monkeypatch.setattr(model_module, "_is_builtin", lambda layer: True)
    model, _ = _functional()
    for _ in range(3):  # Traced, traced again, then the plan.
        out = model(X)
        np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK)
    assert model._call_function is not None
    other = X.copy()
    other[0, 1] = 0.  # A different mask from the same plan.
    np.testing.assert_array_equal(mask_of(model(other)),
                                  [[True, False, False], [True, False, False]])


# -- losses and metrics -----------------------------------------------------------------------

def test_loss_weighted_by_prediction_mask():
    y_true = np.arange(6, dtype="float32").reshape(2, 3, 1)
    y_pred = tf.constant(np.ones((2, 3, 1), "float32"))
    y_pred._keras_mask = tf.constant(EXPECTED_MASK)
    per_step = (1. - y_true[..., 0]) ** 2
    expected = per_step[EXPECTED_MASK].mean()      # Mean over the unmasked steps only.
    loss = keras.losses.MeanSquaredError()(y_true, y_pred)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-6)
    # With sample weights: the mask multiplies them; still divided by the unmasked count.
    weights = np.array([2., 0.5], "float32")
    expected_weighted = (per_step * weights[:, None])[EXPECTED_MASK].sum() / 3
    loss = keras.losses.MeanSquaredError()(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(float(loss), expected_weighted, rtol=1e-6)
    summed = keras.losses.MeanSquaredError(reduction="sum")(y_true, y_pred)
    np.testing.assert_allclose(float(summed), per_step[EXPECTED_MASK].sum(), rtol=1e-6)


def test_loss_with_everything_masked_is_zero():
    y_pred = tf.constant(np.ones((1, 2, 1), "float32"))
    y_pred._keras_mask = tf.constant([[False, False]])
    assert float(keras.losses.MeanSquaredError()(np.zeros((1, 2, 1)), y_pred)) == 0.


def test_metric_weighted_by_prediction_mask():
    y_true = np.array([[0, 1, 1], [1, 0, 0]])
    y_pred = tf.constant(np.array([[[.9, .1], [.2, .8], [.9, .1]],
                                   [[.9, .1], [.9, .1], [.1, .9]]], "float32"))
    y_pred._keras_mask = tf.constant(EXPECTED_MASK)
    metric = keras.metrics.SparseCategoricalAccuracy()
    metric.update_state(y_true, y_pred)
    # Unmasked: (0,0) right, (0,1) right, (1,0) wrong -> 2/3 (unmasked wrong ones ignored).
    np.testing.assert_allclose(float(metric.result()), 2 / 3, rtol=1e-6)


def test_fit_loss_ignores_masked_steps():
    """Training on sequences: masked steps change neither the loss nor the gradients."""
    tf.random.set_seed(1)
    inputs = keras.Input((3, 2))
    outputs = keras.layers.Dense(1, kernel_initializer="ones")(ZeroStepMask()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    y = np.array([[[1.], [2.], [100.]], [[3.], [50.], [-70.]]], "float32")
    y_clean = y.copy()
    y_clean[~EXPECTED_MASK] = 0.               # Targets of masked steps do not matter.
    logs = model.evaluate(X, y, verbose=0, return_dict=True)
    logs_clean = model.evaluate(X, y_clean, verbose=0, return_dict=True)
    prediction = X.sum(-1)
    expected = ((prediction - y[..., 0]) ** 2)[EXPECTED_MASK].mean()
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], logs_clean["loss"], rtol=1e-6)
    np.testing.assert_allclose(logs["mae"], logs_clean["mae"], rtol=1e-6)
    before = model.get_weights()
    model.fit(X, y, epochs=2, batch_size=2, verbose=0)
    assert model.train_function.plan_sources()   # The compiled step weighed by the mask.
    after_noisy = model.get_weights()
    model.set_weights(before)
    model.fit(X, y_clean, epochs=2, batch_size=2, verbose=0)
    for a, b in zip(after_noisy, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert not np.allclose(before[0], after_noisy[0])


# Layers that pass masks on in Keras 3.15 (`supports_masking = True` in keras/src/layers),
# among those numpyflow has, and some that do not.
KERAS_3_MASKING = ["Activation", "ActivityRegularization", "Add", "AlphaDropout", "Average",
                   "BatchNormalization", "Concatenate", "Dense", "Dot", "Dropout", "ELU",
                   "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
                   "GroupNormalization", "Identity", "LayerNormalization", "LeakyReLU",
                   "Maximum", "Minimum", "MultiHeadAttention", "Multiply", "Normalization",
                   "ReLU", "Rescaling", "Softmax", "Subtract"]
KERAS_3_NO_MASKING = ["Conv1D", "EinsumDense", "Flatten", "GlobalMaxPooling1D",
                      "MaxPooling1D", "Reshape"]


def test_supports_masking_as_keras_3():
    arguments = {"Dense": (2,), "Activation": ("relu",), "Dropout": (0.1,),
                 "AlphaDropout": (0.1,), "GaussianDropout": (0.1,), "GaussianNoise": (0.1,),
                 "MultiHeadAttention": (2, 2), "Rescaling": (1.,), "Conv1D": (2, 2),
                 "EinsumDense": ("ab,bc->ac", 2), "Reshape": ((1,),), "Dot": (-1,)}
    for name in KERAS_3_MASKING + KERAS_3_NO_MASKING:
        layer = getattr(keras.layers, name)(*arguments.get(name, ()))
        assert layer.supports_masking == (name in KERAS_3_MASKING), name


def test_merge_layers_combine_masks():
    a = ZeroStepMask()(X)
    b = ZeroStepMask()(X[:, ::-1])           # Masks the other end of each sequence.
    either = EXPECTED_MASK | EXPECTED_MASK[:, ::-1]
    np.testing.assert_array_equal(mask_of(keras.layers.Add()([a, b])), either)
    np.testing.assert_array_equal(mask_of(keras.layers.Concatenate(axis=1)([a, b])),
                                  np.concatenate([EXPECTED_MASK, EXPECTED_MASK[:, ::-1]], 1))
    assert mask_of(keras.layers.Add()([a, tf.constant(X)])) is None   # One unmasked input.
    assert mask_of(keras.layers.Dot(axes=-1)([a, b])) is None


def test_masked_average_pooling():
    masked = ZeroStepMask()(X + 1.)            # Every feature nonzero ...
    masked._keras_mask = tf.constant(EXPECTED_MASK)   # ... but the mask from before.
    out = keras.layers.GlobalAveragePooling1D()(masked)
    expected = [(X[i] + 1.)[EXPECTED_MASK[i]].mean(0) for i in range(2)]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert mask_of(out) is None
    kept = keras.layers.GlobalAveragePooling1D(keepdims=True)(masked)
    np.testing.assert_allclose(kept.numpy()[:, 0], expected, rtol=1e-6)


def test_softmax_layer_mask():
    out = keras.layers.Softmax()(tf.constant([[1., 1., 5.]]),
                                 mask=tf.constant([[True, True, False]]))
    np.testing.assert_allclose(out.numpy(), [[0.5, 0.5, 0.]])
    with pytest.raises(ValueError, match="broadcastable"):
        keras.layers.Softmax()(tf.ones((2, 3, 4)), mask=tf.ones((2, 3), dtype=tf.bool))


def test_masked_losses_and_metrics_match_keras_3():
    """Keras 3's values (tests/fixtures/make_attention_fixtures.py, `masked_losses`)."""
    import pathlib
    from tests.fixtures.make_attention_fixtures import MASKED_LOSS_CALLS
    path = pathlib.Path(__file__).parent.parent / "fixtures" / "attention" / \
        "attention_expected.npz"
    with np.load(path) as data:
        d = {key.split("/", 1)[1]: data[key] for key in data.files
             if key.startswith("masked_losses/")}

    def masked(x):
        tensor = tf.constant(x)
        tensor._keras_mask = tf.constant(d["mask"])
        return tensor

    for (kind, name, kwargs, weighted), expected in zip(MASKED_LOSS_CALLS, d["results"]):
        obj = getattr(keras.losses if kind == "loss" else keras.metrics, name)(**kwargs)
        true, pred = ((d["labels"], d["probs"]) if "Categorical" in name
                      else (d["y_true"], d["y_pred"]))
        for weights in ([d["weights"], d["weights"][:, 0]] if weighted else [None]):
            # One weight per sequence, as (2, 1) or (2,) (Keras 3 refuses the latter).
            if kind == "loss":
                value = obj(true, masked(pred), sample_weight=weights)
            else:
                obj.reset_state()
                obj.update_state(true, masked(pred), sample_weight=weights)
                value = obj.result()
            np.testing.assert_allclose(float(value), expected, rtol=1e-5, err_msg=name)


def test_masks_on_a_list_of_model_inputs_reach_the_layers():
    """Built-in layers only: a call without masks may run as a compiled plan, one with
    masks on its inputs must not lose them."""
    first, second = keras.Input((3, 2)), keras.Input((3, 2))
    model = keras.Model([first, second], keras.layers.Add()([first, second]))
    for _ in range(3):
        assert mask_of(model([X, X])) is None
    a, b = tf.constant(X), tf.constant(X)
    a._keras_mask = tf.constant(EXPECTED_MASK)
    b._keras_mask = tf.constant(EXPECTED_MASK[:, ::-1])
    out = model([a, b])
    np.testing.assert_array_equal(mask_of(out), EXPECTED_MASK | EXPECTED_MASK[:, ::-1])
