"""The `tf.image` additions: colour spaces, dtype conversion, saturation/hue/gamma,
standardization, rot90, resize_with_pad and the random and stateless random augmentations.

Each deterministic function is checked against NumPy references and against numbers real
TensorFlow 2.21 gave for one small input (`TF_RESULTS`; the inputs and calls are below).
"""

import colorsys

import numpy as np
import pytest

import numpyflow as tf

# The small input of TF_RESULTS, and the numbers TF 2.21 gave:
#   x = ((np.arange(18) * 7 % 18) / 17.).astype(np.float32).reshape(1, 2, 3, 3)
#   u8 = (np.arange(18) * 37 % 256).astype(np.uint8).reshape(1, 2, 3, 3)
#   e.g. tf.image.adjust_saturation(x, 1.7).numpy().round(6).ravel().tolist()
X = ((np.arange(18) * 7 % 18) / 17.).astype(np.float32).reshape(1, 2, 3, 3)
U8 = (np.arange(18) * 37 % 256).astype(np.uint8).reshape(1, 2, 3, 3)
TF_RESULTS = {
    "adjust_saturation_f":
        [0.0, 0.4117650091648102, 0.8235290050506592, 0.0, 0.5, 1.0, 0.2780750095844269,
        0.764706015586853, 0.0, 0.34224599599838257, 0.9411759972572327, 0.0,
        0.7058820128440857, 0.0, 0.44919800758361816, 0.8823530077934265, 0.0,
        0.5614979863166809],
    "adjust_saturation_u8":
        [44, 59, 74, 155, 170, 185, 222, 134, 149, 121, 136, 151, 210, 225, 137, 87, 102, 117],
    "adjust_hue_f":
        [0.8235290050506592, 0.0, 0.5764700174331665, 1.0, 0.17647099494934082,
        0.7529410123825073, 0.11764699965715408, 0.48235300183296204, 0.764706015586853,
        0.2941179871559143, 0.6588240265846252, 0.9411759972572327, 0.6000000238418579,
        0.7058820128440857, 0.058823999017477036, 0.7764700055122375,
        0.8823530077934265, 0.23529399931430817],
    "adjust_hue_u8":
        [74, 59, 0, 185, 170, 111, 3, 193, 222, 151, 136, 77, 108, 6, 225, 117, 102, 43],
    "adjust_gamma_u8":
        [0, 4, 21, 53, 100, 163, 244, 0, 5, 23, 56, 104, 169, 252, 0, 6, 25, 59],
    "per_image_standardization_u8":
        [-1.4179110527038574, -0.8993340134620667, -0.38075700402259827, 0.13782000541687012,
        0.6563969850540161, 1.174973964691162, 1.693550944328308, -1.375864028930664,
        -0.8572869896888733, -0.3387100100517273, 0.1798669993877411,
        0.6984440088272095, 1.2170209884643555, 1.7355979681015015, -1.3338170051574707,
        -0.8152400255203247, -0.29666298627853394, 0.22191399335861206],
    "rgb_to_grayscale_u8":
        [30, 141, 72, 107, 189, 73],
    "rgb_to_hsv":
        [0.5833330154418945, 1.0, 0.8235290050506592, 0.5833330154418945, 0.8235290050506592,
        1.0, 0.27272701263427734, 0.846153974533081, 0.764706015586853,
        0.27272701263427734, 0.6875, 0.9411759972572327, 0.8939390182495117,
        0.9166669845581055, 0.7058820128440857, 0.8939390182495117, 0.7333329916000366,
        0.8823530077934265],
    "resize_with_pad":
        [0.0, 0.4117650091648102, 0.8235290050506592, 0.11029399931430817, 0.5220590233802795,
        0.9338240027427673, 0.24264700710773468, 0.6544119715690613, 0.6691179871559143,
        0.35294100642204285, 0.764706015586853, 0.11764699965715408, 0.0, 0.0, 0.0,
        0.26470598578453064, 0.6764709949493408, 0.5588240027427673, 0.375,
        0.4558820128440857, 0.6691179871559143, 0.5073530077934265, 0.38970598578453064,
        0.6029409766197205, 0.6176469922065735, 0.5, 0.3823530077934265, 0.0, 0.0, 0.0,
        0.5294119715690613, 0.9411759972572327, 0.2941179871559143, 0.639706015586853,
        0.38970598578453064, 0.40441200137138367, 0.7720590233802795, 0.125,
        0.5367649793624878, 0.8823530077934265, 0.23529399931430817, 0.6470590233802795,
        0.0, 0.0, 0.0],
    "convert_f_to_u8_saturate":
        [0, 106, 255, 16, 174, 255, 84, 241, 0, 151, 255, 61, 219, 0, 129, 255, 39, 196],
    "convert_u8_to_i16":
        [0, 4736, 9472, 14208, 18944, 23680, 28416, 384, 5120, 9856, 14592, 19328, 24064, 28800,
        768, 5504, 10240, 14976],
}
TF_CALLS = {
    "adjust_saturation_f": lambda: tf.image.adjust_saturation(X, 1.7),
    "adjust_saturation_u8": lambda: tf.image.adjust_saturation(U8, 0.4),
    "adjust_hue_f": lambda: tf.image.adjust_hue(X, 0.3),
    "adjust_hue_u8": lambda: tf.image.adjust_hue(U8, -0.45),
    "adjust_gamma_u8": lambda: tf.image.adjust_gamma(U8, 2.2, 1.3),
    "per_image_standardization_u8": lambda: tf.image.per_image_standardization(U8),
    "rgb_to_grayscale_u8": lambda: tf.image.rgb_to_grayscale(U8),
    "rgb_to_hsv": lambda: tf.image.rgb_to_hsv(X),
    "resize_with_pad": lambda: tf.image.resize_with_pad(X, 3, 5),
    "convert_f_to_u8_saturate": lambda: tf.image.convert_image_dtype(X * 1.5 - 0.2, tf.uint8,
                                                                     saturate=True),
    "convert_u8_to_i16": lambda: tf.image.convert_image_dtype(U8, tf.int16),
}


@pytest.mark.parametrize("name", sorted(TF_RESULTS))
def test_matches_tensorflow(name):
    result = TF_CALLS[name]().numpy()
    expected = np.array(TF_RESULTS[name]).reshape(result.shape)
    if result.dtype.kind == "f":
        np.testing.assert_allclose(result, expected, atol=2e-6)
    else:
        np.testing.assert_array_equal(result, expected)


def _rgb(shape=(2, 5, 6, 3), seed=0):
    return np.random.default_rng(seed).uniform(size=shape).astype(np.float32)


# -- colour spaces and dtypes ----------------------------------------------------------------

def test_rgb_to_hsv_matches_colorsys_and_round_trips():
    x = _rgb()
    x[0, 0, 0] = [0.5, 0.5, 0.5]  # gray: hue and saturation 0
    x[0, 0, 1] = 0.                # black
    hsv = tf.image.rgb_to_hsv(x).numpy()
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in x.reshape(-1, 3)]).reshape(x.shape)
    np.testing.assert_allclose(hsv, expected, atol=2e-6)
    np.testing.assert_allclose(tf.image.hsv_to_rgb(hsv).numpy(), x, atol=2e-6)
    back = np.array([colorsys.hsv_to_rgb(*p) for p in hsv.reshape(-1, 3)]).reshape(x.shape)
    np.testing.assert_allclose(tf.image.hsv_to_rgb(hsv).numpy(), back, atol=2e-6)


def test_hsv_conversions_have_gradients():
    x = tf.constant(_rgb((1, 2, 2, 3)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(x)))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.ones(x.shape), atol=1e-4)


def test_grayscale_conversions():
    x = _rgb()
    gray = tf.image.rgb_to_grayscale(x).numpy()
    np.testing.assert_allclose(gray[..., 0], x @ np.array([0.2989, 0.5870, 0.1140]), rtol=1e-6)
    assert gray.shape == (2, 5, 6, 1)
    rgb = tf.image.grayscale_to_rgb(gray).numpy()
    np.testing.assert_array_equal(rgb, np.repeat(gray, 3, axis=-1))
    with pytest.raises(ValueError, match=r"last dimension must be 3 .* received shape"):
        tf.image.rgb_to_grayscale(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="last dimension must be 1"):
        tf.image.grayscale_to_rgb(np.zeros((2, 2, 3)))
    with pytest.raises(TypeError, match="floating-point .* received dtype uint8"):
        tf.image.rgb_to_hsv(np.zeros((2, 2, 3), np.uint8))


def test_convert_image_dtype_rules():
    u8 = np.array([0, 1, 128, 255], np.uint8)
    np.testing.assert_array_equal(tf.image.convert_image_dtype(u8, tf.float32).numpy(),
                                  u8.astype(np.float32) * np.float32(1 / 255))
    floats = np.array([0., 0.5, 1.], np.float32)
    # Floats scale by MAX + 0.5 and truncate: 0.5 -> 127.75 -> 127.
    np.testing.assert_array_equal(tf.image.convert_image_dtype(floats, tf.uint8).numpy(),
                                  [0, 127, 255])
    np.testing.assert_array_equal(
        tf.image.convert_image_dtype(np.array([-0.5, 2.], np.float32), tf.uint8,
                                     saturate=True).numpy(), [0, 255])
    # Integer widening multiplies by the ratio of the ranges; narrowing divides.
    np.testing.assert_array_equal(tf.image.convert_image_dtype(u8, tf.uint16).numpy(),
                                  u8.astype(np.uint16) * 256)
    np.testing.assert_array_equal(
        tf.image.convert_image_dtype(np.array([0, 256, 65535], np.uint16), tf.uint8).numpy(),
        [0, 1, 255])
    assert tf.image.convert_image_dtype(floats, tf.float16).dtype == tf.float16
    with pytest.raises(AttributeError, match="must be a floating or integer type; received bool"):
        tf.image.convert_image_dtype(floats, tf.bool)


# -- colour adjustments ----------------------------------------------------------------------

def test_adjust_saturation_and_hue_against_colorsys():
    x = _rgb((1, 3, 4, 3), seed=3)
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in x.reshape(-1, 3)])
    saturated = hsv.copy()
    saturated[:, 1] = np.clip(saturated[:, 1] * 1.6, 0, 1)
    expected = np.array([colorsys.hsv_to_rgb(*p) for p in saturated]).reshape(x.shape)
    np.testing.assert_allclose(tf.image.adjust_saturation(x, 1.6).numpy(), expected, atol=3e-6)
    shifted = hsv.copy()
    shifted[:, 0] = (shifted[:, 0] - 0.7) % 1.
    expected = np.array([colorsys.hsv_to_rgb(*p) for p in shifted]).reshape(x.shape)
    np.testing.assert_allclose(tf.image.adjust_hue(x, -0.7).numpy(), expected, atol=3e-6)
    np.testing.assert_allclose(tf.image.adjust_hue(x, 0.).numpy(), x, atol=2e-6)
    with pytest.raises(ValueError, match=r"\(\.\.\., height, width, 3\) RGB; received shape"):
        tf.image.adjust_hue(np.zeros((2, 2, 1), np.float32), 0.1)


def test_adjust_gamma_and_standardization_formulas():
    x = _rgb()
    np.testing.assert_allclose(tf.image.adjust_gamma(x, 0.7, 1.3).numpy(), 1.3 * x ** 0.7,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="non-negative .* received gamma=-1"):
        tf.image.adjust_gamma(x, -1)
    standardized = tf.image.per_image_standardization(x).numpy()
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(standardized, (x - mean) / std, rtol=1e-4, atol=1e-5)
    # A constant image divides by 1 / sqrt(number of values), not by a zero stddev.
    np.testing.assert_array_equal(tf.image.per_image_standardization(np.ones((2, 2, 1))).numpy(),
                                  np.zeros((2, 2, 1)))
    assert tf.image.per_image_standardization(np.ones((2, 2, 1), np.uint8)).dtype == tf.float32


# -- geometry --------------------------------------------------------------------------------

def test_rot90_matches_numpy():
    x = _rgb((2, 3, 4, 2))
    for k in range(-1, 6):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(), np.rot90(x, k, axes=(1, 2)))
        np.testing.assert_array_equal(tf.image.rot90(x[0], k).numpy(), np.rot90(x[0], k))
    with pytest.raises(ValueError, match=r"3-D .* or 4-D .* received shape \(3, 4\)"):
        tf.image.rot90(np.zeros((3, 4)))


def test_resize_with_pad_keeps_the_aspect_ratio():
    x = np.ones((2, 4, 6, 1), np.float32)
    padded = tf.image.resize_with_pad(x, 6, 6).numpy()
    expected = np.zeros((2, 6, 6, 1), np.float32)
    expected[:, 1:5] = 1.  # 4x6 stays 4x6 and is centred vertically
    np.testing.assert_allclose(padded, expected)
    assert tf.image.resize_with_pad(x[0], 3, 12, method="nearest").shape == (3, 12, 1)
    with pytest.raises(ValueError, match="target size must be positive"):
        tf.image.resize_with_pad(x, 0, 3)


# -- random augmentations --------------------------------------------------------------------

def test_random_flips_per_image_and_reproducible():
    x = _rgb((32, 2, 3, 1))
    tf.random.set_seed(5)
    flipped = tf.image.random_flip_left_right(x).numpy()
    was_flipped = [np.array_equal(f, i[:, ::-1]) for f, i in zip(flipped, x)]
    kept = [np.array_equal(f, i) for f, i in zip(flipped, x)]
    assert all(a != b for a, b in zip(was_flipped, kept))  # each image one or the other
    assert 4 < sum(was_flipped) < 28
    tf.random.set_seed(5)
    np.testing.assert_array_equal(tf.image.random_flip_left_right(x).numpy(), flipped)
    up_down = tf.image.random_flip_up_down(x[0], seed=1).numpy()
    assert np.array_equal(up_down, x[0]) or np.array_equal(up_down, x[0][::-1])


def test_random_adjustments_stay_in_their_ranges():
    x = _rgb((2, 4, 4, 3))
    deltas = [float((tf.image.random_brightness(x, 0.2) - x).numpy().mean()) for _ in range(20)]
    assert all(-0.2 <= d <= 0.2 for d in deltas) and len(set(deltas)) > 1
    mean = x.mean(axis=(1, 2), keepdims=True)
    for _ in range(10):
        out = tf.image.random_contrast(x, 0.5, 1.5).numpy()
        factor = (out - mean).ravel()[0] / (x - mean).ravel()[0]
        np.testing.assert_allclose(out, (x - mean) * factor + mean, atol=1e-5)
        assert 0.5 <= factor <= 1.5
    assert tf.image.random_saturation(x, 0.5, 1.5, seed=2).shape == x.shape
    assert tf.image.random_hue(x, 0.5, seed=2).shape == x.shape


def test_random_crop_is_a_window_of_the_input():
    x = np.arange(5 * 6 * 2, dtype=np.float32).reshape(5, 6, 2)
    windows = {tuple(x[t:t + 3, l:l + 4].ravel()) for t in range(3) for l in range(3)}
    crops = [tuple(tf.image.random_crop(x, (3, 4, 2)).numpy().ravel()) for _ in range(30)]
    assert set(crops) <= windows and len(set(crops)) > 1
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value.shape=\[5, 6, 2\], size"):
        tf.image.random_crop(x, (6, 4, 2))


def test_random_argument_errors():
    x = _rgb((4, 4, 3))
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(x, -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(x, 0.5, 0.5)
    with pytest.raises(ValueError, match="lower must be non-negative"):
        tf.image.random_saturation(x, -0.5, 0.5)
    with pytest.raises(ValueError, match=r"max_delta must be in \[0, 0.5\]"):
        tf.image.random_hue(x, 0.6)


STATELESS = {
    "flip_left_right": lambda x, seed: tf.image.stateless_random_flip_left_right(x, seed),
    "flip_up_down": lambda x, seed: tf.image.stateless_random_flip_up_down(x, seed),
    "brightness": lambda x, seed: tf.image.stateless_random_brightness(x, 0.3, seed),
    "contrast": lambda x, seed: tf.image.stateless_random_contrast(x, 0.2, 1.8, seed),
    "saturation": lambda x, seed: tf.image.stateless_random_saturation(x, 0.2, 1.8, seed),
    "hue": lambda x, seed: tf.image.stateless_random_hue(x, 0.4, seed),
    "crop": lambda x, seed: tf.image.stateless_random_crop(x, (16, 3, 3, 3), seed),
}


@pytest.mark.parametrize("name", sorted(STATELESS))
def test_stateless_variants_depend_on_the_seed_alone(name):
    x = _rgb((16, 5, 5, 3))
    op = STATELESS[name]
    first = op(x, (1, 2)).numpy()
    tf.random.set_seed(99)  # the global seed plays no part
    np.testing.assert_array_equal(op(x, tf.constant([1, 2])).numpy(), first)
    others = [op(x, (1, s)).numpy() for s in range(3, 8)]
    assert any(not np.array_equal(first, o) for o in others)
    with pytest.raises(ValueError, match=r"pair of integers \(shape \[2\]\); received seed=3"):
        op(x, 3)


# -- resize: "area" and antialias -------------------------------------------------------------

# x = np.arange(2 * 6 * 9, dtype=np.float32).reshape(2, 6, 9, 1) ** 1.5 / 50; TF 2.21 gave
# tf.image.resize(x, size, ...)[0, :rows, :cols, 0] (rounded to 5 decimals) for:
TF_RESIZE = {
    ("area", False, (4, 4)): [
        [0.21084, 0.34075, 0.50903, 0.70596], [1.27656, 1.54723, 1.83571, 2.1409],
        [3.42111, 3.79621, 4.18417, 4.58458], [5.59539, 6.03604, 6.48767, 6.95002]],
    ("area", False, (7, 13)): [
        [0.0, 0.01111, 0.02406, 0.05657, 0.08814], [0.45, 0.49466, 0.54006, 0.61748, 0.67925],
        [1.19823, 1.26314, 1.32849, 1.43579, 1.51876]],
    ("bilinear", True, (4, 4)): [
        [0.24401, 0.36948, 0.5474, 0.72913], [1.44047, 1.6942, 1.99849, 2.2815],
        [3.30346, 3.63974, 4.03328, 4.39186], [5.55494, 5.95528, 6.41929, 6.83843]],
    ("bilinear", True, (7, 13)): [
        [0.0, 0.01077, 0.02844, 0.05376, 0.08571], [0.42429, 0.46571, 0.52065, 0.57895, 0.64086],
        [1.17473, 1.23717, 1.31836, 1.40135, 1.48666]],
}


@pytest.mark.parametrize("key", sorted(TF_RESIZE))
def test_resize_area_and_antialias_match_tensorflow(key):
    method, antialias, size = key
    x = np.arange(2 * 6 * 9, dtype=np.float32).reshape(2, 6, 9, 1) ** 1.5 / 50
    expected = np.array(TF_RESIZE[key])
    out = tf.image.resize(x, size, method=method, antialias=antialias).numpy()
    assert out.shape == (2,) + size + (1,)
    np.testing.assert_allclose(out[0, :expected.shape[0], :expected.shape[1], 0], expected,
                               atol=1e-5)


def test_resize_area_is_block_mean_and_differentiable():
    x = tf.constant(_rgb((2, 6, 8, 3)))
    out = tf.image.resize(x, (3, 2), method="area").numpy()
    blocks = x.numpy().reshape(2, 3, 2, 2, 4, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(out, blocks, rtol=1e-5)
    for kwargs in ({"method": "area"}, {"antialias": True}):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.image.resize(x, (3, 5), **kwargs))
        # Each output pixel's weights sum to 1: the gradient sums to the output size.
        assert float(tf.reduce_sum(tape.gradient(y, x))) == pytest.approx(2 * 3 * 5 * 3)
    assert tf.image.resize(np.zeros((4, 4, 1), np.uint8), (2, 2), method="area").dtype == \
        tf.float32
    # As in TF, antialias has no effect with "nearest".
    np.testing.assert_array_equal(
        tf.image.resize(x, (3, 5), method="nearest", antialias=True).numpy(),
        tf.image.resize(x, (3, 5), method="nearest").numpy())
    with pytest.raises(NotImplementedError, match="'bicubic' .* 'area'"):
        tf.image.resize(x, (3, 5), method="bicubic", antialias=True)
