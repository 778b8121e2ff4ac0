"""DenseFeatures and LinearModel in training: Keras models fed dicts of features."""

import numpy as np
import pytest

import numpyflow as tf

fc = tf.feature_column


def census_like_table(n, seed=0):
    """A generated table whose label depends on a numeric, a categorical (strings), an id
    and a cross of two of them."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 80, n).astype(np.float32)
    education = rng.choice(["Bachelors", "HS-grad", "Masters", "Doctorate", "Some-college"], n)
    occupation = rng.integers(0, 30, n)
    hours = rng.uniform(10, 70, n).astype(np.float32)
    logit = (0.08 * (age - 45) + 1.5 * np.isin(education, ["Masters", "Doctorate"])
             - 2.0 * (occupation % 5 == 0) + 0.05 * (hours - 40)
             + 1.5 * ((age > 50) & (education == "HS-grad")))
    label = (logit > 0).astype(np.float32)[:, None]
    features = {"age": age[:, None], "education": education[:, None].astype(object),
                "occupation": occupation[:, None].astype(np.int64), "hours": hours[:, None]}
    return features, label


def census_columns():
    age = fc.numeric_column("age")
    age_buckets = fc.bucketized_column(age, [25., 35., 45., 55., 65.])
    education = fc.categorical_column_with_vocabulary_list(
        "education", ["Bachelors", "HS-grad", "Masters", "Doctorate", "Some-college"])
    occupation = fc.categorical_column_with_identity("occupation", 30)
    return [fc.numeric_column("hours", normalizer_fn=lambda x: (x - 40.) / 15.),
            age_buckets, fc.indicator_column(education), fc.embedding_column(occupation, 4),
            fc.indicator_column(fc.crossed_column([age_buckets, "education"], 50))]


def test_functional_model_trains_on_a_generated_table():
    """Adam 0.01, 12 epochs of 1500 rows in batches of 32, 500 held-out rows.

    TF 2.15 with the same table, columns, model and settings
    (tests/fixtures/make_dense_features_training_reference.py), seeds 0-4: held-out accuracy
    0.962, 0.958, 0.962, 0.962, 0.968; epoch loss ~0.41 -> ~0.075. numpyflow, seeds 0-4:
    0.964, 0.956, 0.964, 0.964, 0.966. The majority class is 0.607 of the rows."""
    tf.random.set_seed(1)
    features, label = census_like_table(2000)
    train = {k: v[:1500] for k, v in features.items()}
    test = {k: v[1500:] for k, v in features.items()}
    inputs = {"age": tf.keras.Input((1,), name="age"),
              "hours": tf.keras.Input((1,), name="hours"),
              "education": tf.keras.Input((1,), name="education", dtype="string"),
              "occupation": tf.keras.Input((1,), name="occupation", dtype="int64")}
    dense_features = tf.keras.layers.DenseFeatures(census_columns())
    x = dense_features(inputs)
    x = tf.keras.layers.Dense(16, activation="relu")(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(tf.keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    table = dense_features.weights[0]
    before = table.numpy().copy()
    train_ds = tf.data.Dataset.from_tensor_slices((train, label[:1500])).batch(32)
    history = model.fit(train_ds, epochs=12, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    test_ds = tf.data.Dataset.from_tensor_slices((test, label[1500:])).batch(100)
    loss, accuracy = model.evaluate(test_ds, verbose=0)
    assert accuracy > 0.94, accuracy
    # The embedding table is a trained weight of the layer.
    assert table.name == f"{dense_features.name}/occupation_embedding/embedding_weights:0"
    assert table in model.trainable_weights
    assert not np.allclose(table.numpy(), before)


def test_embedding_gradient_reaches_only_looked_up_rows():
    ids = fc.categorical_column_with_identity("i", 6)
    layer = tf.keras.layers.DenseFeatures([fc.embedding_column(ids, 2, combiner="sum")])
    with tf.GradientTape() as tape:
        out = layer({"i": [[1, 3], [3, -1]]})
        loss = tf.reduce_sum(out)
    grad = tape.gradient(loss, layer.trainable_weights[0]).numpy()
    np.testing.assert_array_equal(grad, [[0, 0], [1, 1], [0, 0], [2, 2], [0, 0], [0, 0]])


def test_frozen_layer_and_column_trainable_flag():
    ids = fc.categorical_column_with_identity("i", 6)
    layer = tf.keras.layers.DenseFeatures([fc.embedding_column(ids, 2)])
    layer({"i": [[1]]})
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1
    fixed = tf.keras.layers.DenseFeatures([fc.embedding_column(ids, 2, trainable=False)])
    fixed({"i": [[1]]})
    assert fixed.trainable_weights == []


def test_cols_to_output_tensors_and_output_order():
    a, b = fc.numeric_column("b_second"), fc.numeric_column("a_first", shape=(2,))
    outputs = {}
    out = tf.keras.layers.DenseFeatures([a, b])(
        {"b_second": [[9.]], "a_first": [[1., 2.]]}, cols_to_output_tensors=outputs)
    np.testing.assert_array_equal(out.numpy(), [[1., 2., 9.]])
    np.testing.assert_array_equal(outputs[a].numpy(), [[9.]])


def test_model_with_dense_features_saves_and_loads(tmp_path):
    ids = fc.categorical_column_with_identity("city", 20)
    columns = [fc.numeric_column("age"), fc.embedding_column(ids, 3),
               fc.indicator_column(fc.crossed_column(["color", ids], 16)),
               fc.indicator_column(fc.categorical_column_with_vocabulary_list(
                   "color", [1, 2, 3], num_oov_buckets=2))]
    inputs = {"age": tf.keras.Input((1,), name="age"),
              "color": tf.keras.Input((1,), name="color", dtype="int64"),
              "city": tf.keras.Input((1,), name="city", dtype="int64")}
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(
        tf.keras.layers.DenseFeatures(columns)(inputs)))
    features = {"age": np.array([[1.], [2.], [3.]], np.float32),
                "color": np.array([[1], [2], [9]]), "city": np.array([[1], [5], [7]])}
    expected = model(features).numpy()
    for name in ("m.keras", "m.h5"):
        model.save(tmp_path / name)
        loaded = tf.keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(loaded(features).numpy(), expected, rtol=1e-6)


def test_linear_model_learns_a_linear_target():
    """LinearModel (what LinearClassifier/LinearRegressor train): SGD on a target that is
    linear in a numeric value and in one-hot ids recovers the weights."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 1)).astype(np.float32)
    c = rng.integers(0, 4, size=(256, 1))
    target = 2. * x + np.array([0., 1., -1., 3.])[c] + 0.5
    model = fc.LinearModel([fc.numeric_column("x"), fc.categorical_column_with_identity("c", 4)],
                           name="linear_model")
    features = {"x": x, "c": c}
    optimizer = tf.keras.optimizers.SGD(0.2)
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(features) - target))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights),
                                      model.trainable_weights))
    assert float(loss) < 1e-3
    np.testing.assert_allclose(model.column_weights("x").numpy(), [[2.]], atol=0.02)
    learned = model.column_weights("c").numpy()[:, 0] + model.bias.numpy()[0]
    np.testing.assert_allclose(learned, [0.5, 1.5, -0.5, 3.5], atol=0.05)


@pytest.mark.parametrize("combiner, expected", [("sum", [[3.], [1.]]), ("mean", [[1.5], [1.]]),
                                                ("sqrtn", [[3. / np.sqrt(2.)], [1.]])])
def test_linear_model_sparse_combiner(combiner, expected):
    model = fc.LinearModel([fc.categorical_column_with_identity("c", 3)],
                           sparse_combiner=combiner)
    model({"c": [[0, 1]]})
    model.column_weights("c").assign([[1.], [2.], [1.]])
    np.testing.assert_allclose(model({"c": [[0, 1], [2, -1]]}).numpy(), expected, rtol=1e-6)


def test_linear_model_refuses_features_of_different_batch_sizes():
    # As DenseFeatures (and TF's _verify_static_batch_size_equality): a batch of 1 must not
    # broadcast against a batch of 3.
    model = fc.LinearModel([fc.numeric_column("x"), fc.categorical_column_with_identity("c", 3)])
    with pytest.raises(ValueError, match=r"Batch size \(first dimension\) of each feature must "
                                         r"be same.*\(c, x\): \(3, 1\)"):
        model({"x": [[1.]], "c": [[0], [2], [1]]})


def test_linear_model_config_round_trip():
    model = fc.LinearModel([fc.numeric_column("x"), fc.categorical_column_with_identity("c", 4)],
                           units=3, sparse_combiner="mean", name="lm")
    clone = fc.LinearModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()


def test_subclassed_model_fits_on_a_dict_of_arrays():
    class Model(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.features = tf.keras.layers.DenseFeatures([
                fc.numeric_column("a"),
                fc.embedding_column(fc.categorical_column_with_identity("i", 5), 2)])
            self.out = tf.keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.features(x))

    rng = np.random.default_rng(0)
    features = {"a": rng.random((64, 1)).astype(np.float32), "i": rng.integers(0, 5, (64, 1))}
    target = features["a"] + np.array([0., 1., 2., 3., 4.], np.float32)[features["i"]]
    model = Model()
    model.compile(tf.keras.optimizers.Adam(0.05), "mse")
    history = model.fit(features, target, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert len(model.trainable_weights) == 3  # The embedding table, kernel and bias.


def test_max_norm_gradient_is_finite_for_zero_vectors():
    ids = fc.categorical_column_with_identity("i", 4)
    zeros = tf.keras.initializers.Zeros()
    layer = tf.keras.layers.DenseFeatures([fc.embedding_column(ids, 2, max_norm=1.,
                                                               initializer=zeros)])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer({"i": [[1, 2], [3, -1], [-1, -1]]}))
    grad = tape.gradient(loss, layer.trainable_weights[0]).numpy()
    np.testing.assert_allclose(grad, [[0, 0], [0.5, 0.5], [0.5, 0.5], [1, 1]])
