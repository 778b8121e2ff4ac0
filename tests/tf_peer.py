"""Check scripts that run in the benchmarks' venv, which holds real TensorFlow 2.21.

Interop checks need TensorFlow, which the default test environment does not install: each
lives in a script under `tests/fixtures/` that prints one `ok  <what>` or `FAIL <what>`
line per check, and a test runs it with `.venv-bench`'s Python when that venv exists.

    @needs_tf
    def test_something_in_tensorflow():
        assert_checks_pass("check_something_with_tf.py", expected=3)
"""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")

needs_tf = pytest.mark.skipif(not os.path.exists(TF_PYTHON),
                              reason="needs .venv-bench (TF 2.21)")


def has_modules(*modules):
    """Whether `.venv-bench` can import every one of `modules`."""
    check = "; ".join(f"import {m}" for m in modules)
    return subprocess.run([TF_PYTHON, "-c", check], capture_output=True,
                          timeout=120).returncode == 0


def assert_checks_pass(script, expected, timeout=600):
    """Runs tests/fixtures/`script` in `.venv-bench`; it must print `expected` check lines,
    all `ok`."""
    result = subprocess.run([TF_PYTHON, os.path.join(ROOT, "tests", "fixtures", script)],
                            capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok  ", "FAIL"))]
    report = "\n".join(lines) + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert len(lines) == expected and all(line.startswith("ok  ") for line in lines), report
