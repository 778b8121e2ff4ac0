"""The CIFAR-10-shaped CNN row (issue #17): a functional CNN with BatchNormalization.

Inputs are 32x32x3 images (synthetic: a training step's speed does not depend on the
pixels), three blocks of Conv2D(3x3, same, no bias) -> BatchNormalization -> ReLU ->
MaxPooling2D(2) with 32, 64 and 128 filters, then Flatten -> Dense(10, softmax); Adam
(default settings), batch 64, one epoch of `SAMPLES` samples. Keras `fit(verbose=0)` for
numpyflow and TF (the same code, only the module differs), and the same layers in PyTorch's
idiomatic loop (NCHW, logits into CrossEntropyLoss; BatchNorm2d with Keras' momentum 0.99
and epsilon 1e-3, i.e. PyTorch momentum 0.01). `run.py` times them side by side as the
`cifar_cnn` workload.

    python benchmarks/run.py --workloads cifar_cnn --frameworks numpyflow,torch
"""

SAMPLES = 2048
BATCH_SIZE = 64
FILTERS = (32, 64, 128)
IMAGE_SHAPE = (32, 32, 3)
CLASSES = 10
# Each step is ~30x a LeNet step at batch 32, so fewer warm-up batches suffice (Keras traces
# and compiles its step on the first).
WARMUP_BATCHES = 5


def synthetic_data(samples=SAMPLES, seed=0):
    """(x, y): float32 images in [0, 1) of IMAGE_SHAPE and int64 labels, the same for all."""
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.random((samples,) + IMAGE_SHAPE, dtype=np.float32)
    return x, rng.integers(0, CLASSES, samples).astype(np.int64)


def keras_cifar_cnn(tf, **compile_args):
    """The Keras model, compiled (with `compile_args`, e.g. jit_compile=True for TF's XLA
    column): the same code for numpyflow and TensorFlow."""
    keras, layers = tf.keras, tf.keras.layers
    inputs = keras.Input(shape=IMAGE_SHAPE)
    x = inputs
    for filters in FILTERS:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **compile_args)
    return model


def torch_cifar_cnn():
    """PyTorch: the same layers on NCHW tensors, and Adam."""
    import torch
    from torch import nn
    torch.manual_seed(0)
    blocks, channels = [], IMAGE_SHAPE[2]
    for filters in FILTERS:
        blocks += [nn.Conv2d(channels, filters, 3, padding=1, bias=False),
                   nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01), nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels = filters
    side = IMAGE_SHAPE[0] // 2 ** len(FILTERS)
    model = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(channels * side * side, CLASSES))
    return model, torch.optim.Adam(model.parameters())
