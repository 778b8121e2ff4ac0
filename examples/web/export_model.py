"""Trains a small Fashion-MNIST classifier with numpyflow and writes the browser demo's files.

The model is the seed tutorial's (Flatten, Dense 128 relu, Dense 10 softmax). It is written
twice, once per browser runtime, next to a few test images for the page to offer:

    <out>/tfjs/model.json + shards   model.export(..., format="tfjs")  -> TensorFlow.js
    <out>/model.onnx                 model.export(..., format="onnx")  -> ONNX Runtime Web
    <out>/demo.json                  class names, input shape, sample images (uint8 pixels)

Then serve the page and open it:

    python examples/web/export_model.py   # a few seconds: 2 epochs; writes examples/web/artifacts
    python examples/web/serve.py             # http://127.0.0.1:8000/

`export_demo` is the part that writes the files; tests/examples/test_web_demo.py calls it on
a small model.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "artifacts")
# Fashion-MNIST's labels 0..9, as the TensorFlow "Basic classification" tutorial names them.
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_SHAPE = (28, 28)


def build_model():
    """The seed tutorial's classifier, for 28x28 images scaled to [0, 1].

    Example:
      >>> build_model().output_shape
      (None, 10)
    """
    import numpyflow as tf

    return tf.keras.Sequential([
        tf.keras.Input(IMAGE_SHAPE),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(len(CLASS_NAMES), activation="softmax"),
    ])


def pick_samples(images, labels, per_class=1):
    """Indices of the first `per_class` images of each class, ordered by class.

    Example:
      >>> pick_samples(np.zeros((4, 28, 28)), np.array([1, 0, 1, 0]))
      [1, 0]
    """
    chosen = []
    for label in range(len(CLASS_NAMES)):
        chosen.extend(np.flatnonzero(np.asarray(labels) == label)[:per_class].tolist())
    return chosen


def export_demo(model, out_dir, images, labels=None, class_names=CLASS_NAMES):
    """Writes the model for TF.js and ONNX Runtime Web plus the page's `demo.json`.

    The page divides each uint8 pixel by 255 before it runs the model, as the tutorial does
    with `x / 255.0`, and shows the model's outputs as class probabilities.

    Args:
      model: A built model taking float images of shape `images.shape[1:]` in [0, 1] and
        returning one softmax row per image.
      out_dir: The folder to write (created if missing; earlier demo files are replaced).
      images: uint8 array `(n, 28, 28)`: the sample images the page offers.
      labels: Optional true class of each sample (shown as the button's tooltip).
      class_names: One name per output unit.

    Returns:
      The dict written to `demo.json`. Its `"onnx"` is the ONNX file's name, or None when
      `model.export(format="onnx")` raised NotImplementedError (a layer with no ONNX rule);
      `"onnx_unavailable"` then holds that message, which the page shows.

    Raises:
      ValueError: for samples that are not uint8 images of the model's input shape, or a
        model whose outputs are not probabilities over `class_names`.

    Example:
      >>> import tempfile
      >>> demo = export_demo(build_model(), tempfile.mkdtemp(), np.zeros((1, 28, 28), np.uint8))
      >>> demo["tfjs"], demo["input_shape"]
      ('tfjs/model.json', [28, 28])
    """
    images = np.asarray(images)
    input_shape = list(model.input_shape[1:])
    if images.dtype != np.uint8 or list(images.shape[1:]) != input_shape or images.ndim < 2:
        raise ValueError(f"export_demo: `images` must be uint8 of shape (n, "
                         f"{', '.join(map(str, input_shape))}) (the model's input shape). "
                         f"Received: dtype={images.dtype}, shape={images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"export_demo: got {len(labels)} labels for {len(images)} images.")
    probabilities = np.asarray(model.predict(images / 255.0, verbose=0))
    if probabilities.shape != (len(images), len(class_names)):
        raise ValueError(f"export_demo: the model must output one row of {len(class_names)} "
                         f"class probabilities per image; it output shape "
                         f"{probabilities.shape}.")
    if not (np.all(probabilities >= 0) and np.allclose(probabilities.sum(-1), 1, atol=1e-3)):
        raise ValueError("export_demo: the page shows the model's outputs as probabilities, "
                         "but they do not sum to 1: end the model with a softmax.")

    os.makedirs(out_dir, exist_ok=True)
    model.export(os.path.join(out_dir, "tfjs"), format="tfjs", verbose=False)
    onnx_path = os.path.join(out_dir, "model.onnx")
    if os.path.exists(onnx_path):
        os.remove(onnx_path)  # never let the page load a model from an earlier export
    onnx_name, onnx_unavailable = "model.onnx", None
    try:
        model.export(onnx_path, format="onnx", verbose=False)
    except NotImplementedError as error:
        onnx_name, onnx_unavailable = None, str(error)

    demo = {
        "class_names": list(class_names),
        "input_shape": input_shape,
        "tfjs": "tfjs/model.json",
        "onnx": onnx_name,
        "onnx_unavailable": onnx_unavailable,
        "samples": [{"label": None if labels is None else int(labels[i]),
                     "pixels": image.ravel().tolist()} for i, image in enumerate(images)],
    }
    with open(os.path.join(out_dir, "demo.json"), "w") as file:
        json.dump(demo, file, separators=(",", ":"))
    return demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="folder the page serves as /artifacts (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="tf.random.set_seed")
    args = parser.parse_args(argv)

    import numpyflow as tf

    tf.random.set_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train / 255.0, y_train, epochs=args.epochs, batch_size=64, verbose=2)
    _, accuracy = model.evaluate(x_test / 255.0, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")

    chosen = pick_samples(x_test, y_test)
    demo = export_demo(model, args.out, x_test[chosen], y_test[chosen])
    print(f"wrote {args.out}: tfjs/model.json, "
          + ("model.onnx" if demo["onnx"] else "no model.onnx"), "and demo.json")
    if demo["onnx_unavailable"]:
        print(f"ONNX not written: {demo['onnx_unavailable']}", file=sys.stderr)
    print("serve it with: python examples/web/serve.py")


if __name__ == "__main__":
    main()
