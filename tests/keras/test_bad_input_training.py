"""Bad input to compile/fit/evaluate/predict and to optimizers gets a clear error.

Where Keras 3.15 (TF 2.21) raises, the exception type is Keras's; the messages also name the
argument and what was received, where Keras's do not (`'str' object cannot be interpreted as
an integer`).
"""

import logging
import re

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


X = np.ones((4, 3), np.float32)
Y = np.ones((4, 2), np.float32)


# -- empty data -------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda m: m.evaluate(np.zeros((0, 3)), np.zeros((0, 2)), verbose=0),
     r"^evaluate\(\) received empty data \(0 samples\)\.$"),
    (lambda m: m.fit(np.zeros((0, 3)), np.zeros((0, 2)), verbose=0),
     r"^fit\(\) received empty training data \(0 samples\)\.$"),
    (lambda m: m.predict(np.zeros((0, 3)), verbose=0),
     r"^predict\(\) received empty input \(0 samples\)\.$"),
])
def test_empty_data_raises(call, message):
    # Keras 3 warns "Your input ran out of data" and returns [] (evaluate) or fails with an
    # UnboundLocalError (predict); an error saying what is wrong is clearer.
    with pytest.raises(ValueError, match=message):
        call(_model())


# -- data that is not numbers -----------------------------------------------------------------

STRINGS = np.array([["a", "b", "c"]] * 4)
OBJECTS = np.array([[1, 2, None]] * 4, dtype=object)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_string_x_to_a_numeric_input_names_model_input_and_dtype(method):
    # Strings are valid inputs (TextVectorization, feature columns): the model's float32
    # input is what refuses them.
    model = _model()
    arguments = (STRINGS,) if method == "predict" else (STRINGS, Y)
    with pytest.raises(ValueError, match=r"^Model 'sequential\w*': input '\w+' expects "
                                         r"float32 values, but it received strings"):
        getattr(model, method)(*arguments, verbose=0)


@pytest.mark.parametrize("method", ["fit", "predict"])
def test_object_x_names_argument_and_dtype(method):
    model = _model()
    arguments = (OBJECTS,) if method == "predict" else (OBJECTS, Y)
    with pytest.raises(ValueError, match=r"^Invalid dtype: object for `x`: it holds Python "
                                         r"objects"):
        getattr(model, method)(*arguments, verbose=0)


def test_string_y_names_argument():
    with pytest.raises(ValueError, match=r"^Invalid dtype: <U1 for `y`"):
        _model().fit(X, np.array([["a", "b"]] * 4), verbose=0)


def test_ragged_x_names_argument():
    with pytest.raises(ValueError, match=r"^Unrecognized data type: x=\[\[1\.0, 2\.0, 3\.0\], "
                                         r"\[1\.0, 2\.0\]\] \(of type <class 'list'>\): its rows "
                                         r"have different lengths"):
        _model().fit([[1., 2., 3.], [1., 2.]], Y[:2], verbose=0)


def test_bad_input_in_a_dict_names_its_key():
    inputs = {"a": keras.Input((3,), name="a"), "b": keras.Input((3,), name="b")}
    outputs = keras.layers.Dense(2)(keras.layers.Concatenate()([inputs["a"], inputs["b"]]))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"^Invalid dtype: object for `x\['b'\]`"):
        model.fit({"a": X, "b": OBJECTS}, Y, verbose=0)


# -- arguments of the wrong type ----------------------------------------------------------------

@pytest.mark.parametrize("argument, value, error, message", [
    ("epochs", "3", TypeError, r"^`epochs` must be an integer; received epochs='3' \(of type "
                               r"str\)\.$"),
    ("epochs", 2.5, TypeError, r"^`epochs` must be an integer; received epochs=2\.5"),
    ("epochs", None, TypeError, r"^`epochs` must be an integer; received epochs=None"),
    ("initial_epoch", 1.0, TypeError, r"^`initial_epoch` must be an integer"),
    ("batch_size", "2", TypeError, r"^`batch_size` must be an integer; received "
                                   r"batch_size='2' \(of type str\)\.$"),
    ("batch_size", 2.5, TypeError, r"^`batch_size` must be an integer; received batch_size=2\.5"),
    ("batch_size", 0, ValueError, r"^`batch_size` must be an integer >= 1; received "
                                  r"batch_size=0\.$"),
    ("validation_batch_size", "2", TypeError, r"^`validation_batch_size` must be an integer"),
])
def test_fit_argument_of_wrong_type_is_named(argument, value, error, message):
    with pytest.raises(error, match=message):
        _model().fit(X, Y, verbose=0, **{argument: value})


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_evaluate_and_predict_batch_size_of_wrong_type_is_named(method):
    arguments = (X,) if method == "predict" else (X, Y)
    with pytest.raises(TypeError, match=r"^`batch_size` must be an integer; received "
                                        r"batch_size=2\.5 \(of type float\)\.$"):
        getattr(_model(), method)(*arguments, batch_size=2.5, verbose=0)


def test_integer_arguments_of_numpy_types_are_accepted():
    history = _model().fit(X, Y, epochs=np.int64(2), batch_size=np.int32(2), verbose=0)
    assert history.epoch == [0, 1]


# -- learning rate -------------------------------------------------------------------------------

LEARNING_RATE_MESSAGE = (r"^Argument `learning_rate` should be float, or an instance of "
                         r"LearningRateSchedule, or a callable \(that takes in the current "
                         r"iteration value and returns the corresponding learning rate value\)\. "
                         r"Received instead: learning_rate=")


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize("value", ["fast", None, [0.1]])
def test_learning_rate_that_is_not_a_number_raises_keras_error(optimizer, value):
    with pytest.raises(ValueError, match=LEARNING_RATE_MESSAGE + re.escape(str(value)) + "$"):
        getattr(keras.optimizers, optimizer)(learning_rate=value)


def test_setting_learning_rate_to_a_string_raises():
    optimizer = keras.optimizers.Adam()
    with pytest.raises(TypeError, match=LEARNING_RATE_MESSAGE + "fast$"):
        optimizer.learning_rate = "fast"
    assert float(optimizer.learning_rate) == pytest.approx(0.001)


def test_learning_rate_numbers_of_every_kind_are_accepted():
    for value in (0.5, 1, np.float32(0.5), tf.constant(0.5)):
        assert float(keras.optimizers.SGD(learning_rate=value).learning_rate) == float(value)


# -- a loss that becomes NaN ---------------------------------------------------------------------

def _diverging_fit(caplog, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 1e10
    y = rng.integers(0, 3, size=64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(learning_rate=1e30), "sparse_categorical_crossentropy")
    logger = logging.getLogger("numpyflow")
    logger.addHandler(caplog.handler)
    try:
        with np.errstate(all="ignore"):  # Plans' additions of inf still warn (hot ufuncs).
            history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, **kwargs)
    finally:
        logger.removeHandler(caplog.handler)
    messages = [r.getMessage() for r in caplog.records if "loss became" in r.getMessage()]
    return history, messages


def test_nan_loss_warning_says_training_goes_on_and_it_does(caplog):
    history, messages = _diverging_fit(caplog)
    assert len(messages) == 1
    assert "Training goes on unless a callback stops it" in messages[0]
    assert history.epoch == [0, 1]  # It did go on.


def test_nan_loss_with_terminate_on_nan_logs_no_claim_that_training_goes_on(caplog, capsys):
    history, messages = _diverging_fit(caplog, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert messages == []
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert history.epoch == [0]
