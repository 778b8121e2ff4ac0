"""`keras.backend`: global Keras settings (float type, epsilon) and unique layer names."""

import collections
import re

_FLOATX = "float32"
_EPSILON = 1e-7
_name_counts = collections.defaultdict(int)


def floatx():
    """The default float type of layer weights and computations ("float32")."""
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value!r}. Expected 'float16', 'float32' or "
                         f"'float64'.")
    _FLOATX = str(value)


def epsilon():
    """The fuzz factor used to keep logs and divisions finite (1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def clear_session():
    """Resets the layer/model name counters, so names start again at `dense`, `dense_1`, ..."""
    _name_counts.clear()


def snake_case(class_name):
    """`MaxPooling2D` -> `max_pooling2d`, as Keras derives default layer names."""
    intermediate = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def unique_object_name(base):
    """`base`, then `base_1`, `base_2`, ... on later calls (until `clear_session()`)."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"
