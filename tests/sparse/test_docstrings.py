"""The examples in the tf.sparse and parsing docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = ["numpyflow.sparse", "numpyflow.sparse.sparse_tensor", "numpyflow.sparse.sparse_ops",
           "numpyflow.sparse.sparse_math", "numpyflow.io.parsing",
           "numpyflow.io.sequence_parsing", "numpyflow.io.tensor_proto"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
