"""`keras.utils.image_dataset_from_directory` and the `load_img`/`save_img` helpers, on a
folder of PNGs made here. The file orders, splits and labels expected are what Keras 3.15
gave for the same folder (names only matter) with the same arguments."""

import os

import numpy as np
import pytest
from PIL import Image

import numpyflow as tf
from numpyflow import keras

LAYOUT = {"coat": 5, "bag": 3, "ankle_boot": 4}


@pytest.fixture
def folder(tmp_path):
    """13 random 6x8 RGB PNGs in 3 class folders (one nested), a text file, a hidden folder."""
    rng = np.random.default_rng(0)
    images = {}

    def write(relative):
        image = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / relative, format="PNG")
        images[relative] = image

    for name, count in LAYOUT.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            write(f"{name}/img_{i}.png")
    (tmp_path / "bag" / "nested").mkdir()
    write("bag/nested/deep.PNG")
    (tmp_path / "coat" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path, images


def _relative(dataset, root):
    return [os.path.relpath(p, root) for p in dataset.file_paths]


def _batches(dataset):
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
    return np.concatenate(images), np.concatenate(labels)


def test_split_both_matches_keras(folder, capsys):
    root, images = folder
    train, val = keras.utils.image_dataset_from_directory(
        root, seed=7, validation_split=0.25, subset="both", image_size=(4, 4), batch_size=5)
    out = capsys.readouterr().out
    assert out.splitlines() == ["Found 13 files belonging to 3 classes.",
                                "Using 10 files for training.", "Using 3 files for validation."]
    assert _relative(train, root) == [
        "coat/img_0.png", "coat/img_2.png", "ankle_boot/img_2.png", "bag/img_1.png",
        "ankle_boot/img_0.png", "ankle_boot/img_1.png", "coat/img_4.png",
        "bag/nested/deep.PNG", "coat/img_3.png", "ankle_boot/img_3.png"]
    assert _relative(val, root) == ["bag/img_2.png", "coat/img_1.png", "bag/img_0.png"]
    assert train.class_names == val.class_names == ["ankle_boot", "bag", "coat"]
    # The validation set is not reshuffled: its labels come in file order, as in Keras.
    x_val, y_val = _batches(val)
    assert y_val.tolist() == [1, 2, 1] and y_val.dtype == np.int32
    assert x_val.shape == (3, 4, 4, 3) and x_val.dtype == np.float32
    expected = tf.image.resize(images["bag/img_2.png"], (4, 4)).numpy()
    np.testing.assert_allclose(x_val[0], expected, rtol=1e-6)
    # Training batches are reshuffled, but hold the same (image, label) pairs.
    x_train, y_train = _batches(train)
    assert [len(y) for _, y in train] == [5, 5]
    label_of = {name: LAYOUT_INDEX[name.split("/")[0]] for name in _relative(train, root)}
    assert sorted(y_train.tolist()) == sorted(label_of.values())


LAYOUT_INDEX = {"ankle_boot": 0, "bag": 1, "coat": 2}


def test_unshuffled_values_labels_and_modes(folder, capsys):
    root, images = folder
    ds = keras.utils.image_dataset_from_directory(root, shuffle=False, image_size=(6, 8),
                                                  batch_size=4, label_mode="categorical",
                                                  class_names=["coat", "bag"])
    assert capsys.readouterr().out == "Found 9 files belonging to 2 classes.\n"
    names = _relative(ds, root)
    assert names == [f"coat/img_{i}.png" for i in range(5)] + [
        "bag/img_0.png", "bag/img_1.png", "bag/img_2.png", "bag/nested/deep.PNG"]
    x, y = _batches(ds)
    np.testing.assert_array_equal(x, np.stack([images[n] for n in names]).astype(np.float32))
    np.testing.assert_array_equal(y, np.eye(2, dtype=np.float32)[[0] * 5 + [1] * 4])
    binary = keras.utils.image_dataset_from_directory(
        root, shuffle=False, image_size=(2, 2), label_mode="binary", class_names=["coat", "bag"],
        color_mode="grayscale", verbose=False)
    x, y = _batches(binary)
    assert x.shape == (9, 2, 2, 1) and y.shape == (9, 1) and y.dtype == np.float32
    assert y.ravel().tolist() == [0.] * 5 + [1.] * 4


def test_explicit_and_no_labels(folder, capsys):
    root, _ = folder
    ds = keras.utils.image_dataset_from_directory(root, labels=list(range(13)), shuffle=False,
                                                  image_size=(4, 4))
    assert capsys.readouterr().out == "Found 13 files belonging to 13 classes.\n"
    assert ds.class_names == [str(i) for i in range(13)]
    assert _relative(ds, root)[3:5] == ["ankle_boot/img_3.png", "bag/img_0.png"]
    assert _batches(ds)[1].tolist() == list(range(13))
    unlabelled = keras.utils.image_dataset_from_directory(root, labels=None, seed=3,
                                                          image_size=(4, 4), batch_size=None)
    assert capsys.readouterr().out == "Found 13 files.\n"
    assert _relative(unlabelled, root)[:4] == ["bag/img_2.png", "bag/img_0.png",
                                               "ankle_boot/img_1.png", "ankle_boot/img_2.png"]
    first = next(iter(unlabelled))
    assert first.shape == (4, 4, 3) and unlabelled.class_names is None


def test_aspect_ratio_options(folder):
    root, images = folder
    padded = keras.utils.image_dataset_from_directory(
        root, shuffle=False, image_size=(8, 8), pad_to_aspect_ratio=True, verbose=False)
    x, _ = _batches(padded)
    np.testing.assert_array_equal(x[:, :1], 0.)  # 6x8 in 8x8: one zero row above and below
    np.testing.assert_array_equal(x[0, 1:7], images["ankle_boot/img_0.png"])
    cropped = keras.utils.image_dataset_from_directory(
        root, shuffle=False, image_size=(6, 6), crop_to_aspect_ratio=True, verbose=False)
    x, _ = _batches(cropped)
    np.testing.assert_array_equal(x[0], images["ankle_boot/img_0.png"][:, 1:7])


def test_argument_errors(folder):
    root, _ = folder
    make = keras.utils.image_dataset_from_directory
    with pytest.raises(ValueError, match="you must provide a `seed`"):
        make(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        make(root, subset="training", seed=1)
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        make(root, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match=r"did not match .* class_names=\['shirt'\]"):
        make(root, class_names=["shirt"])
    with pytest.raises(ValueError, match="len\\(labels\\) is 2 while we found 13 files"):
        make(root, labels=[0, 1])
    with pytest.raises(ValueError, match="color_mode"):
        make(root, color_mode="cmyk")
    with pytest.raises(ValueError, match="Only one of"):
        make(root, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        make(root, interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="channels_first"):
        make(root, data_format="channels_first")
    empty = root / "coat" / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="No images found in directory"):
        make(empty, verbose=False)


def test_load_save_img_round_trip(tmp_path):
    array = np.random.default_rng(1).integers(0, 256, (4, 6, 3)).astype(np.float32)
    path = str(tmp_path / "a.png")
    keras.utils.save_img(path, array, scale=False)
    image = keras.utils.load_img(path)
    assert image.size == (6, 4) and image.mode == "RGB"
    np.testing.assert_array_equal(keras.utils.img_to_array(image), array)
    gray = keras.utils.load_img(path, color_mode="grayscale", target_size=(2, 3))
    assert keras.utils.img_to_array(gray).shape == (2, 3, 1)
    square = keras.utils.load_img(path, target_size=(2, 2), keep_aspect_ratio=True)
    np.testing.assert_array_equal(np.asarray(square),
                                  np.asarray(Image.fromarray(array.astype(np.uint8))
                                             .crop((1, 0, 5, 4)).resize((2, 2), 0)))
    scaled = keras.utils.img_to_array(keras.utils.array_to_img(np.array([[[0.], [0.5], [2.]]])))
    assert scaled.ravel().tolist() == [0., 63., 255.]
    assert keras.utils.img_to_array(image, data_format="channels_first").shape == (3, 4, 6)
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(str(tmp_path / "b.jpg"), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="cmyk")
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.jpg"]  # atomic: no temporary files


def test_fit_on_the_dataset(folder):
    root, _ = folder
    train, val = keras.utils.image_dataset_from_directory(
        root, image_size=(6, 8), batch_size=4, seed=1, validation_split=0.25, subset="both",
        verbose=False)
    model = keras.Sequential([keras.Input((6, 8, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(3, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert model.predict(val, verbose=0).shape == (3, 3)
