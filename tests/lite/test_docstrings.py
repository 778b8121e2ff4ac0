"""The examples in the tf.lite docstrings run and print what they show."""

import doctest
import importlib

import pytest

pytest.importorskip("tflite")
pytest.importorskip("ai_edge_litert")

MODULES = ["numpyflow.lite", "numpyflow.lite.converter", "numpyflow.lite.interpreter",
           "numpyflow.lite.flatbuffer", "numpyflow.lite.folding", "numpyflow.lite.quantize",
           "numpyflow.lite.recurrent",
           "tests.export.export_models"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
