"""The examples in the docstrings of tf.distribute's modules run and print what they show."""

import doctest
import importlib

import numpy as np
import pytest

MODULES = ["numpyflow.distribute.strategy", "numpyflow.distribute.communicator",
           "numpyflow.distribute.input_lib", "numpyflow.distribute.reduce_op",
           "numpyflow.distribute.loss_utils", "numpyflow.distribute.distributed_file_utils",
           "numpyflow.distribute.collective_util", "numpyflow.ops.collective_ops",
           "numpyflow.data.distribute_options"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": np},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
