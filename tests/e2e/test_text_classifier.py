"""A text classifier end to end: TextVectorization + Embedding + Bidirectional(LSTM) learns a
generated sentiment task (sentences of neutral filler with positive or negative words) from
a `tf.data.Dataset` of raw strings, to >= 90% validation accuracy, then survives a save and
load as one `.keras` file (vocabulary included)."""

import os
import time

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras
POSITIVE = ["good", "great", "excellent", "lovely", "superb", "wonderful", "happy", "fine"]
NEGATIVE = ["bad", "awful", "terrible", "poor", "horrible", "sad", "boring", "ugly"]
FILLER = ["the", "movie", "was", "a", "plot", "and", "actors", "really", "quite", "story",
          "film", "it", "this", "very", "ending", "music"]


def make_sentences(count, rng):
    """Sentences of 6-10 words: filler plus 1-2 words of one sentiment (the label)."""
    sentences, labels = [], []
    for _ in range(count):
        label = int(rng.integers(2))
        words = list(rng.choice(FILLER, size=int(rng.integers(5, 9))))
        for _ in range(int(rng.integers(1, 3))):
            words.insert(int(rng.integers(len(words) + 1)),
                         str(rng.choice(POSITIVE if label else NEGATIVE)))
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", ""]))
        labels.append(label)
    return np.array(sentences), np.array(labels, np.float32)


@pytest.mark.realdata
def test_text_classifier_learns_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    tf.random.set_seed(0)
    train_x, train_y = make_sentences(1200, rng)
    val_x, val_y = make_sentences(300, rng)

    vectorize = keras.layers.TextVectorization(max_tokens=64, output_sequence_length=12)
    vectorize.adapt(tf.data.Dataset.from_tensor_slices(train_x).batch(256))
    inputs = keras.Input((1,), dtype="string")
    x = vectorize(inputs)
    x = keras.layers.Embedding(vectorize.vocabulary_size(), 16, mask_zero=True)(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(12))(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])

    def dataset(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x[:, None], y))
        return (ds.shuffle(len(x), seed=1) if shuffle else ds).batch(32)

    start = time.perf_counter()
    history = model.fit(dataset(train_x, train_y, True), epochs=4,
                        validation_data=dataset(val_x, val_y, False), verbose=0)
    elapsed = time.perf_counter() - start
    print(f"{elapsed:.1f} s", history.history)
    assert history.history["val_accuracy"][-1] >= 0.9, history.history
    assert elapsed < 30, f"training took {elapsed:.1f} s"

    path = os.path.join(tmp_path, "classifier.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    probe = val_x[:16, None]
    np.testing.assert_allclose(loaded(probe).numpy(), model(probe).numpy(), rtol=1e-5,
                               atol=1e-6)
