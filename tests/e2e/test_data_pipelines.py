"""LeNet-5 on real Fashion-MNIST fed by tf.data: from arrays in memory, and from PNG files."""

import numpy as np
import pytest

import numpyflow as tf
from examples.lenet5 import build_lenet5

keras = tf.keras


@pytest.mark.realdata
def test_lenet5_from_a_dataset_reaches_tf_accuracy(fashion):
    """The input pipeline of the TF tutorials: from_tensor_slices -> shuffle -> batch ->
    prefetch. TF 2.21 reached 0.866-0.880 (over seeds) with LeNet-5, Adam, batch 32, 2 epochs
    fed by arrays (tests/e2e/test_lenet.py); a dataset of such batches trains the same."""
    (x_train, y_train), (x_test, y_test) = fashion
    keras.backend.clear_session()
    tf.random.set_seed(2)
    train = (tf.data.Dataset.from_tensor_slices((x_train[..., None].astype(np.float32),
                                                 y_train))
             .shuffle(60000, seed=4).batch(32).prefetch(tf.data.AUTOTUNE))
    test = tf.data.Dataset.from_tensor_slices((x_test[..., None].astype(np.float32),
                                               y_test)).batch(256)
    model = build_lenet5(tf, input_shape=(28, 28, 1))
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(train, epochs=2, validation_data=test, verbose=0)
    # TF itself ranges 0.866-0.880 over seeds (test_lenet.py). Here seed 2 reaches 0.873;
    # with batch-32 convolutions split across two cores (filter gradients summed in another
    # order: another draw of the same spread) it reached 0.8658, and seed 3 0.875. So the
    # bar sits below TF's lowest by that spread.
    assert history.history["val_accuracy"][-1] >= 0.86


@pytest.mark.realdata
def test_lenet5_from_a_folder_of_png_files(fashion, tmp_path):
    """image_dataset_from_directory on 3,000 real images written as PNGs, one folder per
    class; one epoch of LeNet-5 learns the classes (held-out accuracy well above 0.1)."""
    (x_train, y_train), _ = fashion
    images = (x_train[:3000] * 255).round().astype(np.uint8)
    for index, (image, label) in enumerate(zip(images, y_train[:3000])):
        folder = tmp_path / f"class_{label}"
        folder.mkdir(exist_ok=True)
        tf.io.write_file(str(folder / f"{index}.png"), tf.io.encode_png(image[..., None]))
    keras.backend.clear_session()
    tf.random.set_seed(5)
    train, val = keras.utils.image_dataset_from_directory(
        tmp_path, color_mode="grayscale", image_size=(28, 28), batch_size=32, seed=7,
        validation_split=0.2, subset="both")
    assert train.class_names == [f"class_{i}" for i in range(10)]
    model = build_lenet5(tf, input_shape=(28, 28, 1))
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(train.map(lambda x, y: (x / 255., y)), epochs=2, verbose=0)
    _, accuracy = model.evaluate(val.map(lambda x, y: (x / 255., y)), verbose=0)
    assert accuracy >= 0.6
