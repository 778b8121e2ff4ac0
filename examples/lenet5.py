"""LeNet-5, the classic CNN, trained on Fashion-MNIST.

    python examples/lenet5.py            # 2 epochs with Adam, batch 32: ~0.87-0.88 accuracy

`build_lenet5(tf)` takes the framework module, so the same definition serves numpyflow,
the tests, and the benchmarks that run it under TensorFlow for comparison.
"""


def build_lenet5(tf, input_shape=None):
    """The LeNet-5 layer stack (uncompiled), as a `tf.keras.Sequential`.

    Args:
      tf: `numpyflow` (or `tensorflow`).
      input_shape: Optional (28, 28, 1) to build the model right away.
    """
    layers = tf.keras.layers
    first = {"input_shape": input_shape} if input_shape is not None else {}
    return tf.keras.Sequential([
        layers.Conv2D(6, 5, padding="same", activation="relu", **first),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    import numpyflow as tf

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0
    model = build_lenet5(tf, input_shape=(28, 28, 1))
    model.summary()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_test, y_test))


if __name__ == "__main__":
    main()
