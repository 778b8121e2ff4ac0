"""numpyflow's TFLite files and real TF 2.21's, for the same weights, agree in LiteRT.

Runs `tests/fixtures/check_tflite_against_tf.py` with the benchmarks' venv (TF 2.21,
Keras 3) when it exists and has LiteRT. Last run (TF 2.21.0, ai-edge-litert 2.3.0): float
files agree within 6e-8 on all four models; dynamic-range files within 6e-8; full-integer
files identically for LeNet-5, the subclassed model and (to 5e-7) the seed MLP, and within
0.0078 (two steps of the int8 softmax output) for the functional CNN, top-1 agreement 1.0;
an LSTM + GRU model (TF: a fused LSTM op and a loop, numpyflow: unrolled) within 2.4e-7.
"""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
SCRIPT = os.path.join(ROOT, "tests", "fixtures", "check_tflite_against_tf.py")


def _has(python, *modules):
    check = "; ".join(f"import {m}" for m in modules)
    return subprocess.run([python, "-c", check], capture_output=True, timeout=120).returncode == 0


@pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="needs .venv-bench (TF 2.21)")
def test_tflite_files_agree_with_tf_converter():
    if not _has(TF_PYTHON, "ai_edge_litert.interpreter", "tflite", "flatbuffers"):
        pytest.skip(".venv-bench lacks ai-edge-litert or tflite (pip install them there)")
    result = subprocess.run([TF_PYTHON, SCRIPT], capture_output=True, text=True, timeout=400,
                            cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok  ", "FAIL"))]
    report = "\n".join(lines) + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert len(lines) == 14 and all(line.startswith("ok  ") for line in lines), report
