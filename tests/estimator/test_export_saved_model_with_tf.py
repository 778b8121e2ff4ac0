"""numpyflow's Estimator SavedModels load and serve in real TensorFlow 2.21.

Runs `tests/fixtures/check_estimator_export_with_tf.py` with the benchmarks' venv (TF 2.21)
when it exists. Last run (TF 2.21.0): a binary and a 3-class DNNClassifier (signature
`predict`, as TF 2.15 exports them with a raw receiver), a LinearRegressor, a
DNNLinearCombinedRegressor with batch normalization, a 3-class BaselineClassifier, a custom
model_fn with two PredictOutputs written as text, and one fed by a
TensorServingInputReceiver (TF1's loader too) serve within 6e-8 of numpyflow's `predict`
at batch sizes 1 and 3, integer outputs equal.
"""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
SCRIPT = os.path.join(ROOT, "tests", "fixtures", "check_estimator_export_with_tf.py")


@pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="needs .venv-bench (TF 2.21)")
def test_estimator_saved_models_serve_in_tensorflow():
    result = subprocess.run([TF_PYTHON, SCRIPT], capture_output=True, text=True, timeout=600,
                            cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok  ", "FAIL"))]
    report = "\n".join(lines) + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert len(lines) == 7 and all(line.startswith("ok  ") for line in lines), report
