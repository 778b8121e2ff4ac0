"""Small standard datasets, like `tf.keras.datasets`."""

from numpyflow.keras.datasets import fashion_mnist
from numpyflow.keras.datasets import mnist

__all__ = ["fashion_mnist", "mnist"]
