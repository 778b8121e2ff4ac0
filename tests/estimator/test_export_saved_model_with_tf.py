"""numpyflow's Estimator SavedModels load and serve in real TensorFlow 2.21.

Runs `tests/fixtures/check_estimator_export_with_tf.py` with the benchmarks' venv (TF 2.21)
when it exists. Last run (TF 2.21.0): a binary and a 3-class DNNClassifier (signature
`predict`, as TF 2.15 exports them with a raw receiver), a LinearRegressor, a
DNNLinearCombinedRegressor with batch normalization, a 3-class BaselineClassifier, a custom
model_fn with two PredictOutputs written as text, and one fed by a
TensorServingInputReceiver (TF1's loader too) serve within 6e-8 of numpyflow's `predict`
at batch sizes 1 and 3, integer outputs equal.
"""

from tests.tf_peer import assert_checks_pass, needs_tf


@needs_tf
def test_estimator_saved_models_serve_in_tensorflow():
    assert_checks_pass("check_estimator_export_with_tf.py", expected=7)
