"""Runs every op case from the `cases_*.py` modules, and checks each primitive has one."""

import importlib
import pathlib
import pkgutil

import pytest

import numpyflow.ops
from numpyflow.framework.primitive import registered_primitives
from tests.ops.opcheck import check

_CASE_MODULES = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("cases_*.py"))
ALL_CASES = [c for m in _CASE_MODULES
             for c in importlib.import_module(f"tests.ops.{m}").CASES]


@pytest.mark.parametrize("op_case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_op(op_case):
    check(op_case)


def test_every_registered_primitive_has_a_case():
    for module in pkgutil.iter_modules(numpyflow.ops.__path__):
        importlib.import_module(f"numpyflow.ops.{module.name}")
    covered = {c.primitive for c in ALL_CASES}
    missing = sorted(set(registered_primitives()) - covered)
    assert not missing, f"primitives without a forward+gradient case: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in ALL_CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
