"""Real-data tests: Fashion-MNIST from Debian's dataset-fashion-mnist (./dev test installs it)."""

import pytest

from numpyflow.keras.datasets import fashion_mnist


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST, scaled to [0, 1] as the tutorial does."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)
