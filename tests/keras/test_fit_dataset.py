"""fit / evaluate / predict fed by `tf.data` datasets (the trainer's dataset adapter)."""

import logging

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.], [-2.], [.5]], np.float32)).astype(np.float32)


def model(learning_rate=0.05):
    tf.random.set_seed(1)
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    m.compile(keras.optimizers.SGD(learning_rate), "mse", metrics=["mae"])
    return m


def test_fit_on_a_dataset_equals_fit_on_the_same_batches_of_arrays():
    x, y = data()
    from_arrays, from_dataset = model(), model()
    from_arrays.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    history = from_dataset.fit(dataset, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    for a, b in zip(from_arrays.get_weights(), from_dataset.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert from_dataset.train_function.plan_sources()  # Compiled, as with arrays.
    assert from_dataset.evaluate(dataset, verbose=0) == pytest.approx(
        from_arrays.evaluate(x, y, batch_size=8, verbose=0), rel=1e-6)
    np.testing.assert_allclose(from_dataset.predict(dataset, verbose=0),
                               from_arrays.predict(x, verbose=0), rtol=1e-6)
    # predict on a dataset of inputs alone.
    np.testing.assert_allclose(
        from_dataset.predict(tf.data.Dataset.from_tensor_slices(x).batch(16), verbose=0),
        from_arrays.predict(x, verbose=0), rtol=1e-6)


def test_dataset_validation_sample_weights_and_class_weights():
    x, y = data()
    weights = np.linspace(0., 2., len(x)).astype(np.float32)
    m = model()
    train = tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(10)
    val = tf.data.Dataset.from_tensor_slices((x, y)).batch(20)
    history = m.fit(train, validation_data=val, epochs=2, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(m.evaluate(x, y, verbose=0)[0],
                                                            rel=1e-5)
    # Weighted: each batch's loss is sum(w * l) / batch size, as with array sample weights.
    reference = model(learning_rate=0.)
    weighted = model(learning_rate=0.)
    expected = reference.evaluate(x, y, sample_weight=weights, batch_size=10, verbose=0)[0]
    assert weighted.evaluate(train, verbose=0)[0] == pytest.approx(expected, rel=1e-6)
    classes = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    classes.compile("sgd", "sparse_categorical_crossentropy")
    labels = (x[:, 0] > 0).astype(np.int64)
    classes.fit(tf.data.Dataset.from_tensor_slices((x, labels)).batch(8),
                class_weight={0: 1., 1: 3.}, epochs=1, verbose=0)


def test_infinite_dataset_with_steps_per_epoch(caplog):
    x, y = data()
    m = model()
    repeated = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(40, seed=3).batch(8).repeat()
    history = m.fit(repeated, steps_per_epoch=7, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and int(m.optimizer.iterations) == 21
    # A finite dataset of unknown length that runs out warns, as Keras does.
    unknown = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).filter(lambda a, b: True)
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        m.fit(unknown, steps_per_epoch=9, epochs=1, verbose=0)
    assert "Your input ran out of data" in caplog.text


def test_progress_bar_knows_the_length_when_the_cardinality_is_known(capsys):
    x, y = data()
    model().fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=1)
    assert "5/5" in capsys.readouterr().out


def test_arguments_a_dataset_carries_itself_raise():
    x, y = data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    m = model()
    with pytest.raises(ValueError, match="`y` should not be passed"):
        m.fit(dataset, y, verbose=0)
    with pytest.raises(ValueError, match="`batch_size` should not be passed"):
        m.fit(dataset, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(dataset, validation_split=0.2, verbose=0)


def test_tf_function_loops_over_a_dataset_in_a_custom_training_loop():
    x, y = data()
    m = model()
    optimizer = keras.optimizers.SGD(0.05)

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(m(xb, training=True) - yb))
        grads = tape.gradient(loss, m.trainable_variables)
        optimizer.apply_gradients(zip(grads, m.trainable_variables))
        return loss

    losses = []
    for epoch in range(3):
        for xb, yb in tf.data.Dataset.from_tensor_slices((x, y)).batch(8):
            losses.append(float(train_step(xb, yb)))
    assert losses[-1] < losses[0]
    assert train_step.plan_sources()
