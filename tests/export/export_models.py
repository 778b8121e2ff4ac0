"""The models issue #13's exporters are checked on (TFLite, ONNX), with random weights.

Each builder returns a built model whose weights, BatchNormalization moving statistics
included, are random (seeded), so that a wrong layout or a dropped op shows in the outputs.
`MODELS` maps a name to `(builder, input shapes without the batch)`; `sample_inputs` makes
matching float32 inputs. Builders take the `tf` module to build with (numpyflow by
default; `tests/fixtures/check_tflite_against_tf.py` passes real TensorFlow to build the
same models in Keras 3).

    >>> from tests.export import export_models
    >>> model = export_models.seed_mlp()
    >>> [tuple(w.shape) for w in model.weights]
    [(784, 128), (128,), (128, 10), (10,)]
"""

import numpy as np

import numpyflow


def randomize(model, seed=0):
    """Gives every weight random values; variances positive so BatchNormalization stays
    well defined."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.name:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:
            # Kernels scaled by their fan-in keep activations near 1, so that float32
            # rounding stays far below the 1e-5 the tests allow and softmax does not
            # saturate (which would hide wrong logits).
            fan_in = int(np.prod(shape[:-1]))
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        else:
            value = rng.normal(0.0, 0.4, shape)
        variable.assign(value.astype(np.float32))
    return model


def seed_mlp(tf=numpyflow):
    """The seed tutorial's model: Flatten, Dense 128 relu, Dropout, Dense 10."""
    keras, layers = tf.keras, tf.keras.layers
    return randomize(keras.Sequential([
        keras.Input((28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10),
    ]))


def lenet5(tf=numpyflow):
    """LeNet-5: two 5x5 convolutions with pooling, then Dense 120, 84, 10 softmax."""
    keras, layers = tf.keras, tf.keras.layers
    return randomize(keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]), seed=1)


def functional_cnn(tf=numpyflow):
    """A functional CNN: BatchNormalization (after a convolution and after an activation),
    Dropout, Add, Concatenate, DepthwiseConv2D, Conv2DTranspose, ZeroPadding2D,
    UpSampling2D, Resizing, GlobalAveragePooling2D, two inputs and two outputs."""
    keras, layers = tf.keras, tf.keras.layers
    image = keras.Input((12, 12, 3), name="image")
    extra = keras.Input((5,), name="extra")
    x = layers.Conv2D(8, 3, padding="same")(image)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    a = layers.Conv2D(8, 3, padding="same", activation="relu6")(x)
    b = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Add()([a, b])
    c = layers.Conv2D(4, 1, activation="sigmoid")(x)
    d = layers.ZeroPadding2D(1)(layers.Conv2D(4, 3)(x))
    x = layers.Concatenate()([c, d])
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="tanh")(x)
    x = layers.UpSampling2D(2)(layers.AveragePooling2D(2)(x))
    x = layers.Resizing(8, 8)(x)
    x = layers.Dropout(0.5)(x)
    pooled = layers.GlobalAveragePooling2D()(x)
    e = layers.Dense(6, activation="elu")(extra)
    joined = layers.Concatenate()([pooled, e])
    logits = layers.Dense(4, name="logits")(joined)
    probabilities = layers.Softmax(name="probabilities")(logits)
    score = layers.Dense(1, activation="tanh", name="score")(joined)
    return randomize(keras.Model([image, extra], [probabilities, score]), seed=2)


def subclassed(tf=numpyflow):
    """A subclassed model: a convolution, BatchNormalization, pooling and a Dense head."""
    keras, layers = tf.keras, tf.keras.layers

    class SubclassedNet(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = layers.Conv2D(4, 3, activation="relu")
            self.norm = layers.BatchNormalization()
            self.pool = layers.GlobalAveragePooling2D()
            self.dense = layers.Dense(3)

        def call(self, inputs, training=None):
            x = self.norm(self.conv(inputs), training=training)
            return tf.nn.softmax(self.dense(self.pool(x)))

    model = SubclassedNet()
    model(np.zeros((1, 10, 10, 2), np.float32))
    return randomize(model, seed=3)


MODELS = {
    "seed_mlp": (seed_mlp, [(28, 28)]),
    "lenet5": (lenet5, [(28, 28, 1)]),
    "functional_cnn": (functional_cnn, [(12, 12, 3), (5,)]),
    "subclassed": (subclassed, [(10, 10, 2)]),
}


def sample_inputs(name, batch=3, seed=0):
    """Random float32 inputs in [0, 1) (like scaled images) for `MODELS[name]`, one array
    per model input."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.0, 1.0, (batch,) + shape).astype(np.float32)
            for shape in MODELS[name][1]]
