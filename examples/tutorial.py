"""The seed tutorial ("TensorFlow 2 and Keras: a simple computer vision model"), as a script.

Its code runs as printed, with one line changed: `import numpyflow as tf`. MNIST is
downloaded on first use; `--dataset fashion_mnist` trains on Fashion-MNIST instead, which
Debian's `dataset-fashion-mnist` package provides offline (`./dev example` installs it).

    python examples/tutorial.py --dataset fashion_mnist
"""

import argparse

import numpyflow as tf

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--seed", type=int, default=None,
                    help="global random seed (tf.random.set_seed), for a reproducible run")
args = parser.parse_args()
dataset = getattr(tf.keras.datasets, args.dataset)
if args.seed is not None:
    tf.random.set_seed(args.seed)

# -- The tutorial's code, in order --------------------------------------------------------

num_classes = 10
img_rows, img_cols = 28, 28
num_channels = 1
input_shape = (img_rows, img_cols, num_channels)

(x_train, y_train), (x_test, y_test) = dataset.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Flatten())
model.add(tf.keras.layers.Dense(128, activation='relu'))
model.add(tf.keras.layers.Dense(num_classes, activation='softmax'))

model.build((None, 28*28))
model.summary()

model.compile(optimizer='sgd',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=args.epochs, verbose=1, validation_data=(x_test, y_test))
