"""numpyflow's SavedModels load and serve in real TensorFlow 2.21.

Runs `tests/fixtures/check_saved_model_with_tf.py` with the benchmarks' venv (TF 2.21,
Keras 3) when it exists. Last run (TF 2.21.0): the message declarations match TF's; the
seed MLP, LeNet-5, the functional CNN with BatchNormalization, the subclassed model and an
LSTM/GRU model serve `serving_default` through `tf.saved_model.load` within 4e-7 of
numpyflow at batch sizes 1 and 3; a two-signature SavedModel with a `tf.function` within
3e-8; a model with dict outputs, each key on its own tensor; TF1's loader (TF Serving's)
within 3e-8; `TFLiteConverter.from_saved_model` converts LeNet-5 and the functional CNN, whose `.tflite` files run within 6e-8.
"""

from tests.tf_peer import assert_checks_pass, needs_tf


@needs_tf
def test_saved_models_serve_in_tensorflow():
    assert_checks_pass("check_saved_model_with_tf.py", expected=16)
