"""LeNet-5, the classic CNN, trained on Fashion-MNIST.

    python examples/lenet5.py                # 2 epochs with Adam, batch 32: ~0.87-0.88 accuracy
    python examples/lenet5.py --functional   # the same model, built with the functional API

`build_lenet5(tf)` (a `Sequential`) and `build_lenet5_functional(tf)` (`keras.Input` +
`keras.Model`) take the framework module, so the same definitions serve numpyflow, the
tests, and the benchmarks that run them under TensorFlow for comparison.
"""

import argparse


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


def build_lenet5_functional(tf, input_shape=(28, 28, 1)):
    """The same layers as `build_lenet5`, wired with the functional API (uncompiled).

    Args:
      tf: `numpyflow` (or `tensorflow`).
      input_shape: Shape of one sample; the functional API needs it up front.
    """
    keras, layers = tf.keras, tf.keras.layers
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(6, 5, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(16, 5, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(120, activation="relu")(x)
    x = layers.Dense(84, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description="LeNet-5 on Fashion-MNIST.")
    parser.add_argument("--functional", action="store_true",
                        help="build the model with keras.Input + keras.Model instead of "
                             "Sequential")
    args = parser.parse_args(argv)
    import numpyflow as tf

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0
    if args.functional:
        model = build_lenet5_functional(tf, input_shape=(28, 28, 1))
    else:
        model = build_lenet5(tf, input_shape=(28, 28, 1))
    model.summary()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_test, y_test))


if __name__ == "__main__":
    main()
