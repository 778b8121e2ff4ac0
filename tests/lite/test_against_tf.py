"""numpyflow's TFLite files and real TF 2.21's, for the same weights, agree in LiteRT.

Runs `tests/fixtures/check_tflite_against_tf.py` with the benchmarks' venv (TF 2.21,
Keras 3) when it exists and has LiteRT. Last run (TF 2.21.0, ai-edge-litert 2.3.0): float
files agree within 6e-8 on all four models; dynamic-range files within 6e-8; full-integer
files identically for LeNet-5, the subclassed model and (to 5e-7) the seed MLP, and within
0.0078 (two steps of the int8 softmax output) for the functional CNN, top-1 agreement 1.0;
an LSTM + GRU model (TF: a fused LSTM op and a loop, numpyflow: unrolled) within 2.4e-7.
"""

import pytest

from tests.tf_peer import assert_checks_pass, has_modules, needs_tf


@needs_tf
def test_tflite_files_agree_with_tf_converter():
    if not has_modules("ai_edge_litert.interpreter", "tflite", "flatbuffers"):
        pytest.skip(".venv-bench lacks ai-edge-litert or tflite (pip install them there)")
    assert_checks_pass("check_tflite_against_tf.py", expected=14, timeout=400)
