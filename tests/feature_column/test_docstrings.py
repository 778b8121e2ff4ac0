"""The examples in the feature column docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = ["numpyflow.feature_column", "numpyflow.feature_column.numeric",
           "numpyflow.feature_column.categorical", "numpyflow.feature_column.crossed",
           "numpyflow.feature_column.embedding", "numpyflow.feature_column.serialization",
           "numpyflow.feature_column.linear_model", "numpyflow.feature_column.parse_spec",
           "numpyflow.keras.layers.dense_features"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
