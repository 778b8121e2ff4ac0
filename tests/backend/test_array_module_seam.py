"""The array backend seam: `numpyflow/ops/` reaches NumPy only through `numpyflow.backend`.

Ops write `xp.matmul(...)` with `xp` from `numpyflow.backend`, so that another array library
(CuPy) can later replace NumPy there without touching `ops/`. These tests read the ops'
source with `ast` (an import of NumPy anywhere, even inside a function, fails) and check the
loaded modules hold the NumPy module only under the backend's names.
"""

import ast
import importlib
import math
import pathlib
import warnings

import numpy as np
import pytest

import numpyflow
from numpyflow import backend

OPS_DIR = pathlib.Path(numpyflow.__file__).parent / "ops"

# Modules not yet converted, with the reason; each entry is meant to be removed.
TEMPORARY_EXCEPTIONS = {}

# Ops that still import a NumPy kernel module (`numpyflow.backend.numpy.*`) by name instead of
# the active backend's re-export (`from numpyflow.backend import conv`); each is to be removed.
KERNEL_IMPORT_EXCEPTIONS = {}


def _is_numpy(name):
    return name == "numpy" or name.startswith("numpy.")


def numpy_imports(source, filename="<source>"):
    """The `(line, text)` of each place `source` imports NumPy other than via the backend."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if _is_numpy(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_numpy(node.module or ""):
            found.append((node.lineno, f"from {node.module} import ..."))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and _is_numpy(node.args[0].value)
              and getattr(node.func, "id", getattr(node.func, "attr", None))
              in ("__import__", "import_module")):
            found.append((node.lineno, f"dynamic import of {node.args[0].value!r}"))
    return found


def backend_kernel_imports(source, filename="<source>"):
    """The `(line, text)` of each import of a specific backend's kernels (`backend.numpy`)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        if any(n == "numpyflow.backend.numpy" or n.startswith("numpyflow.backend.numpy.")
               for n in names):
            found.append((node.lineno, "import of numpyflow.backend.numpy"))
    return found


def ops_files():
    return sorted(p for p in OPS_DIR.glob("*.py"))


def test_checker_finds_every_form_of_numpy_import():
    source = ("import numpy as np\n"
              "from numpy.lib.stride_tricks import as_strided\n"
              "def f():\n"
              "    import numpy.linalg\n"
              "    return importlib.import_module('numpy')\n"
              "from numpyflow.backend import xp\n"
              "import numpyflow\n"
              "from . import numpy_helpers\n")
    assert [line for line, _ in numpy_imports(source)] == [1, 2, 4, 5]


def test_ops_modules_import_numpy_only_through_the_backend():
    offenders = []
    for path in ops_files():
        if path.name in TEMPORARY_EXCEPTIONS:
            continue
        offenders += [f"numpyflow/ops/{path.name}:{line}: {text}"
                      for line, text in numpy_imports(path.read_text(), str(path))]
    assert not offenders, ("these ops import NumPy directly; use `from numpyflow.backend "
                           "import xp` (or `host` for strings):\n" + "\n".join(offenders))


def test_ops_take_kernels_from_the_active_backend():
    offenders = []
    for path in ops_files():
        if path.name in KERNEL_IMPORT_EXCEPTIONS:
            continue
        offenders += [f"numpyflow/ops/{path.name}:{line}: {text}"
                      for line, text in backend_kernel_imports(path.read_text(), str(path))]
    assert not offenders, ("these ops import the NumPy backend's kernels by name; use "
                           "`from numpyflow.backend import <kernels>`:\n" + "\n".join(offenders))


def test_kernel_checker_finds_backend_numpy_imports():
    source = ("from numpyflow.backend.numpy import conv\n"
              "import numpyflow.backend.numpy.pooling\n"
              "from numpyflow.backend import numpy\n"
              "from numpyflow.backend import conv, xp\n")
    assert [line for line, _ in backend_kernel_imports(source)] == [1, 2, 3]


@pytest.mark.parametrize("exceptions, finder", [
    (TEMPORARY_EXCEPTIONS, numpy_imports), (KERNEL_IMPORT_EXCEPTIONS, backend_kernel_imports)])
def test_temporary_exceptions_are_still_needed(exceptions, finder):
    # An exception whose module no longer does what it is excused for must leave the list.
    for name in exceptions:
        path = OPS_DIR / name
        assert path.exists() and finder(path.read_text(), str(path)), (
            f"{name} is converted: remove it from the exceptions in this file")


@pytest.mark.parametrize("path", ops_files(), ids=lambda p: p.name)
def test_loaded_ops_module_holds_numpy_only_under_backend_names(path):
    if path.name in TEMPORARY_EXCEPTIONS:
        pytest.skip(TEMPORARY_EXCEPTIONS[path.name])
    module = importlib.import_module(f"numpyflow.ops.{path.stem}")
    aliases = sorted(name for name, value in vars(module).items()
                     if value is np and name not in ("xp", "host"))
    assert not aliases, f"numpyflow.ops.{path.stem} binds NumPy as {aliases}"
    if getattr(module, "xp", None) is not None:
        assert module.xp is backend.xp


def test_backend_exports_the_numpy_backend():
    assert backend.xp is np and backend.host is np
    assert backend.errstate is np.errstate
    assert set(backend.__all__) >= {"xp", "host", "errstate", "special", "conv", "pooling"}


def test_errstate_silences_only_inside_the_block():
    big = np.array([1e38], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with backend.errstate(over="ignore"):
            assert np.isinf(big * big).all()
        with pytest.raises(RuntimeWarning, match="overflow"):
            big * big  # noqa: B018 - the warning is the point


def test_special_erf_and_erfc_match_the_standard_library():
    x = np.array([-3.0, -0.5, 0.0, 0.25, 1.0, 6.0])
    np.testing.assert_array_equal(backend.special.erf(x), [math.erf(v) for v in x])
    np.testing.assert_array_equal(backend.special.erfc(x), [math.erfc(v) for v in x])
    # erfc keeps precision in the far tail, where 1 - erf(x) is 0.
    assert backend.special.erfc(np.array([6.0]))[0] == pytest.approx(2.15197367e-17, rel=1e-8)
    assert backend.special.erf(np.zeros((2, 3))).shape == (2, 3)
    assert backend.special.erf(np.zeros((2, 3), np.float32)).dtype == np.float64


def test_backend_docstring_examples_run():
    import doctest

    from numpyflow.backend.numpy import special
    for module in (backend, special):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, module.__name__
