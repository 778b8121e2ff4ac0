"""The examples in the export docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = ["numpyflow.export", "numpyflow.export.tfjs", "numpyflow.export.tfjs_config",
           "numpyflow.export.rule_table", "numpyflow.export.model_graph"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_model_export_example():
    from numpyflow.keras.models.model import Model
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(Model.export, "Model.export", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
