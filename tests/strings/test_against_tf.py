"""tf.strings and tf.ragged against TF 2.21: each expression of string_cases.py, run here,
must give what TF gave (tests/fixtures/strings/tf221_strings.json, written by
tests/fixtures/make_string_fixtures.py): same kind, dtype, shape and values; the same
error type for the expressions TF rejects."""

import json
import pathlib

import numpy as np
import pytest

import numpyflow as tf
from tests.strings.string_cases import CASES, HASH_INPUTS

_FIXTURE = pathlib.Path(__file__).parents[1] / "fixtures" / "strings" / "tf221_strings.json"
_EXPECTED = json.loads(_FIXTURE.read_text())["cases"]
_REPR_DIFFERS = set()  # Expressions whose printout may differ from TF's (none so far).


def _plain(value):
    if isinstance(value, dict) and set(value) == {"b"}:
        return value["b"].encode("latin-1")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _flat(value):
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def _lengths(value):
    return [len(value)] + [n for v in value for n in _lengths(v)] \
        if isinstance(value, list) else []


def _run(expression):
    return eval(expression, {"tf": tf, "HASH_INPUTS": HASH_INPUTS})  # noqa: S307


def test_every_case_has_a_fixture():
    assert sorted(_EXPECTED) == sorted(CASES)


@pytest.mark.parametrize("expression", CASES)
def test_matches_tf(expression):
    expected = _EXPECTED[expression]
    if expected["kind"] == "error":
        error_type = getattr(tf.errors, expected["type"], None) or __builtins__[expected["type"]]
        with pytest.raises(error_type):
            _run(expression)
        return
    result = _run(expression)
    want = _plain(expected["value"])
    if expected["kind"] == "ragged":
        assert isinstance(result, tf.RaggedTensor), f"{expression}: got {type(result)}"
        assert result.ragged_rank == expected["ragged_rank"]
        assert result.shape.as_list() == expected["shape"]
        got = result.to_list()
    else:
        assert isinstance(result, tf.Tensor), f"{expression}: got {type(result)}"
        assert result.shape.as_list() == expected["shape"]
        got = np.asarray(result.numpy(), dtype=object).tolist()
    assert result.dtype.name == expected["dtype"]
    if expected["dtype"].startswith("float"):
        assert _flat(got) == pytest.approx(_flat(want), rel=1e-6)
        assert _lengths(got) == _lengths(want)
    else:
        assert got == want
    if expression not in _REPR_DIFFERS:
        assert repr(result) == expected["repr"]
