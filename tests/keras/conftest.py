"""Fixtures shared by the Keras tests."""

import pytest

import numpyflow as tf


@pytest.fixture
def fresh_names():
    """Layer names counted from scratch and the global seed set, as in a new program."""
    tf.keras.backend.clear_session()
    tf.random.set_seed(0)
    yield
