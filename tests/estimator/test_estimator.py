"""tf.estimator.Estimator with a custom model_fn: train/evaluate/predict, checkpoints in
model_dir, logging, hooks, errors."""

import logging
import os

import numpy as np
import pytest

import numpyflow as tf

_X = np.random.RandomState(0).randn(256, 3).astype("float32")
_Y = (_X @ np.array([1., -2., 0.5]) > 0).astype("int32")


def train_input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": _X}, _Y)).shuffle(256, seed=0).repeat() \
        .batch(32)


def eval_input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": _X}, _Y)).batch(64)


def model_fn(features, labels, mode, params):
    net = tf.keras.layers.Dense(8, activation="relu")(features["x"])
    logits = tf.keras.layers.Dense(2)(net)
    classes = tf.argmax(logits, axis=1)
    predictions = {"class_ids": classes, "logits": logits}
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    accuracy = tf.compat.v1.metrics.accuracy(labels=labels, predictions=classes)
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})
    optimizer = tf.compat.v1.train.AdamOptimizer(params.get("learning_rate", 0.01))
    train_op = optimizer.minimize(loss, global_step=tf.compat.v1.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                      training_hooks=params.get("hooks", []))


def make(tmp_path, **config):
    return tf.estimator.Estimator(model_fn, model_dir=str(tmp_path), params={},
                                  config=tf.estimator.RunConfig(**config))


def test_train_evaluate_train_continues_from_the_checkpoint(tmp_path):
    estimator = make(tmp_path)
    first = estimator.evaluate(eval_input_fn)
    assert first["global_step"] == 0
    estimator.train(train_input_fn, steps=100)
    after = estimator.evaluate(eval_input_fn)
    assert sorted(after) == ["accuracy", "global_step", "loss"]
    assert after["global_step"] == 100
    assert after["loss"] < 0.5 * first["loss"] and after["accuracy"] > 0.9
    # A new Estimator on the same model_dir continues: same weights, step grows.
    again = make(tmp_path)
    assert again.evaluate(eval_input_fn)["loss"] == pytest.approx(after["loss"], rel=1e-6)
    again.train(train_input_fn, steps=50)
    final = again.evaluate(eval_input_fn)
    assert final["global_step"] == 150
    assert final["loss"] < after["loss"]
    kernel = again.get_variable_value("dense/kernel")
    assert kernel.shape == (3, 8)
    assert os.path.basename(again.latest_checkpoint()) == "model.ckpt-150"


def test_max_steps_trains_up_to_it_and_then_skips(tmp_path, caplog):
    estimator = make(tmp_path)
    estimator.train(train_input_fn, max_steps=30)
    assert estimator.get_variable_value("global_step") == 30
    with caplog.at_level(logging.INFO, logger="numpyflow"):
        estimator.train(train_input_fn, max_steps=30)
    assert "Skipping training since max_steps has already saved." in caplog.text
    assert estimator.get_variable_value("global_step") == 30


def test_keep_checkpoint_max_and_save_checkpoints_steps(tmp_path):
    estimator = make(tmp_path, save_checkpoints_steps=10, keep_checkpoint_max=3)
    estimator.train(train_input_fn, steps=60)
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("model.ckpt-"))
    assert files == ["model.ckpt-40.ckpt.h5", "model.ckpt-50.ckpt.h5", "model.ckpt-60.ckpt.h5"]
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]  # Atomic saves leave no temp.


def test_variables_saved_are_the_model_and_optimizer_not_the_metrics(tmp_path):
    estimator = make(tmp_path)
    estimator.train(train_input_fn, steps=2)
    names = estimator.get_variable_names()
    assert names[:5] == ["global_step", "dense/kernel", "dense/bias", "dense_1/kernel",
                         "dense_1/bias"]
    assert "dense/kernel/m" in names and "dense/kernel/v" in names
    assert not [n for n in names if n.startswith("accuracy")]


def test_predict_yields_examples_and_filters_keys(tmp_path):
    estimator = make(tmp_path)
    estimator.train(train_input_fn, steps=5)
    predictions = list(estimator.predict(eval_input_fn))
    assert len(predictions) == 256
    assert sorted(predictions[0]) == ["class_ids", "logits"]
    assert predictions[0]["logits"].shape == (2,)
    only = next(iter(estimator.predict(eval_input_fn, predict_keys=["logits"])))
    assert list(only) == ["logits"]
    batches = list(estimator.predict(eval_input_fn, yield_single_examples=False))
    assert [b["logits"].shape for b in batches] == [(64, 2)] * 4
    with pytest.raises(ValueError, match="Expected to run at least one output from"):
        next(iter(estimator.predict(eval_input_fn, predict_keys=["nope"])))


def test_logs_loss_and_step_as_tf(tmp_path, caplog):
    estimator = make(tmp_path, log_step_count_steps=10)
    with caplog.at_level(logging.INFO, logger="numpyflow"):
        estimator.train(train_input_fn, steps=21)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("loss = ") and line.endswith(", step = 0") for line in lines)
    assert any(line.startswith("loss = ") and ", step = 10 (" in line for line in lines)
    assert any(line.startswith("global_step/sec: ") for line in lines)
    assert f"Saving checkpoints for 21 into {tmp_path}/model.ckpt." in lines
    assert any(line.startswith("Loss for final step: ") for line in lines)


def test_temporary_model_dir_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="numpyflow"):
        estimator = tf.estimator.Estimator(model_fn)
    assert os.path.isdir(estimator.model_dir)
    assert f"Using temporary folder as model directory: {estimator.model_dir}" in caplog.text


def test_event_files_in_model_dir(tmp_path):
    pytest.importorskip("tensorboard")
    estimator = make(tmp_path, save_summary_steps=5)
    estimator.train(train_input_fn, steps=10)
    estimator.evaluate(eval_input_fn)
    assert [f for f in os.listdir(tmp_path) if f.startswith("events.out.tfevents")]
    assert [f for f in os.listdir(tmp_path / "eval") if f.startswith("events.out.tfevents")]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = events.Tags()
    scalars = tags.get("scalars", []) + tags.get("tensors", [])
    assert "loss" in scalars


def test_hooks_logging_and_stop_at_step(tmp_path, caplog):
    hook = tf.estimator.LoggingTensorHook({"the_loss": "loss"}, every_n_iter=5)
    estimator = make(tmp_path)
    with caplog.at_level(logging.INFO, logger="numpyflow"):
        estimator.train(train_input_fn, hooks=[hook, tf.estimator.StopAtStepHook(num_steps=12)],
                        steps=100)
    assert estimator.get_variable_value("global_step") == 12
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("the_loss = ")]
    assert len(logged) == 3  # Steps 0, 5, 10.


def test_training_hooks_from_the_spec_see_each_steps_tensors(tmp_path):
    seen = []

    class Recorder(tf.estimator.SessionRunHook):
        def __init__(self, tensor):
            self._tensor = tensor

        def _refresh_from(self, newer):
            self._tensor = newer._tensor

        def before_run(self, run_context):
            return tf.estimator.SessionRunArgs({"value": self._tensor})

        def after_run(self, run_context, run_values):
            seen.append(float(run_values.results["value"]))

    def fn(features, labels, mode):
        w = tf.Variable(0., name="w")
        loss = tf.square(w - 3.) + 0. * tf.reduce_mean(features["x"])
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                          training_hooks=[Recorder(loss)])

    estimator = tf.estimator.Estimator(fn, model_dir=str(tmp_path))
    estimator.train(train_input_fn, steps=5)
    # (w - 3)**2 with w -= 0.1 * 2 * (w - 3): 9, 5.76, 3.6864, ...
    np.testing.assert_allclose(seen, [9 * 0.64 ** i for i in range(5)], rtol=1e-5)


def test_train_and_evaluate_evaluates_as_it_trains(tmp_path):
    estimator = make(tmp_path, save_checkpoints_steps=20)
    result, exports = tf.estimator.train_and_evaluate(
        estimator, tf.estimator.TrainSpec(train_input_fn, max_steps=60),
        tf.estimator.EvalSpec(eval_input_fn, steps=None, throttle_secs=0))
    assert result["global_step"] == 60 and exports == []
    with open(tmp_path / "eval" / "eval_results.jsonl") as f:
        steps = [int(line.split('"global_step": ')[1].split("}")[0].split(",")[0]) for line in f]
    assert steps == [20, 40, 60]


def test_stop_if_no_decrease_hook(tmp_path):
    estimator = make(tmp_path)
    os.makedirs(tmp_path / "eval")
    with open(tmp_path / "eval" / "eval_results.jsonl", "w") as f:
        for step, loss in ((0, 1.0), (10, 0.5), (20, 0.6), (30, 0.7)):
            f.write(f'{{"loss": {loss}, "global_step": {step}}}\n')
    hook = tf.estimator.experimental.stop_if_no_decrease_hook(
        estimator, "loss", max_steps_without_decrease=20, run_every_secs=None,
        run_every_steps=1)
    estimator.train(train_input_fn, hooks=[hook], steps=50)
    assert estimator.get_variable_value("global_step") == 1  # Stopped after the first check.
    patient = tf.estimator.experimental.stop_if_no_decrease_hook(
        estimator, "loss", max_steps_without_decrease=30, run_every_secs=None,
        run_every_steps=1)
    estimator.train(train_input_fn, hooks=[patient], steps=5)
    assert estimator.get_variable_value("global_step") == 6


# -- errors -----------------------------------------------------------------------------------
def test_input_fn_with_the_wrong_structure_is_named(tmp_path):
    estimator = make(tmp_path)
    bad = lambda: tf.data.Dataset.from_tensor_slices((_X, _Y, _Y)).batch(8)  # noqa: E731
    with pytest.raises(ValueError, match="input_fn must return .* received a tuple of 3"):
        estimator.train(bad, steps=1)
    with pytest.raises(ValueError, match="input_fn must return"):
        estimator.train(lambda: 42, steps=1)


def test_argument_errors(tmp_path):
    estimator = make(tmp_path)
    with pytest.raises(ValueError, match="Can not provide both steps and max_steps."):
        estimator.train(train_input_fn, steps=1, max_steps=2)
    with pytest.raises(ValueError, match="Must specify steps > 0, given: 0"):
        estimator.train(train_input_fn, steps=0)
    with pytest.raises(ValueError, match="Could not find trained model in model_dir"):
        estimator.get_variable_names()
    with pytest.raises(ValueError, match="does not include params argument"):
        tf.estimator.Estimator(lambda features, labels, mode: None, params={"a": 1})
    with pytest.raises(ValueError, match="model_fn should return an EstimatorSpec"):
        tf.estimator.Estimator(lambda features, labels, mode: None,
                               model_dir=str(tmp_path / "x")).train(train_input_fn, steps=1)
    with pytest.raises(ValueError, match="An input_receiver_fn must be defined."):
        estimator.export_saved_model("/tmp/x", None)


def test_estimator_spec_checks():
    loss = tf.constant(1.)
    with pytest.raises(ValueError, match="Missing train_op."):
        tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss)
    with pytest.raises(ValueError, match="Missing loss."):
        tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.EVAL)
    with pytest.raises(ValueError, match="Missing predictions."):
        tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.PREDICT)
    with pytest.raises(TypeError, match="export_outputs"):
        tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.PREDICT, predictions=loss,
                                   export_outputs={"a": 1})


def test_run_config_defaults_and_checks():
    config = tf.estimator.RunConfig()
    assert (config.save_summary_steps, config.save_checkpoints_steps,
            config.save_checkpoints_secs, config.keep_checkpoint_max,
            config.log_step_count_steps, config.tf_random_seed) == (100, None, 600, 5, 100, None)
    with pytest.raises(ValueError, match="Can not provide both save_checkpoints_secs and "
                                         "save_checkpoints_steps."):
        tf.estimator.RunConfig(save_checkpoints_steps=1, save_checkpoints_secs=1)
    with pytest.raises(NotImplementedError, match="train_distribute"):
        tf.estimator.RunConfig(train_distribute=object())


def test_tf_random_seed_makes_runs_repeatable(tmp_path):
    values = []
    for run in range(2):
        estimator = make(tmp_path / str(run), tf_random_seed=7)
        estimator.train(train_input_fn, steps=3)
        values.append(estimator.get_variable_value("dense/kernel"))
    np.testing.assert_array_equal(values[0], values[1])


def test_warm_start_from_another_model_dir(tmp_path):
    source = make(tmp_path / "source")
    source.train(train_input_fn, steps=40)
    warm = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path / "warm"), params={},
                                  warm_start_from=str(tmp_path / "source"))
    warm.train(train_input_fn, steps=1)
    assert warm.get_variable_value("global_step") == 1  # The step is not carried over.
    cold = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path / "cold"), params={})
    cold.train(train_input_fn, steps=1)
    source_loss = source.evaluate(eval_input_fn)["loss"]
    assert abs(warm.evaluate(eval_input_fn)["loss"] - source_loss) < \
        abs(cold.evaluate(eval_input_fn)["loss"] - source_loss)


def test_input_fn_may_return_one_batch_of_arrays(tmp_path):
    estimator = make(tmp_path)
    estimator.train(lambda: ({"x": _X[:32]}, _Y[:32]), steps=3)  # The same batch each step.
    assert estimator.get_variable_value("global_step") == 3
    assert estimator.evaluate(lambda: ({"x": _X}, _Y))["global_step"] == 3


def test_keras_metric_objects_in_eval_metric_ops_start_from_zero(tmp_path):
    def fn(features, labels, mode):
        w = tf.Variable(1., name="w")
        loss = tf.reduce_mean(tf.square(features["x"][:, 0] * w))
        mean = tf.keras.metrics.Mean(name="mean_loss")
        mean.update_state(loss)  # In every mode: training saves its totals too.
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.0).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                          eval_metric_ops={"mean_loss": mean})

    estimator = tf.estimator.Estimator(fn, model_dir=str(tmp_path))
    estimator.train(train_input_fn, steps=20)
    assert "mean_loss/total" in estimator.get_variable_names()
    metrics = estimator.evaluate(eval_input_fn)
    batch_losses = [np.mean(_X[i:i + 64, 0] ** 2) for i in range(0, 256, 64)]
    assert metrics["mean_loss"] == pytest.approx(np.mean(batch_losses), rel=1e-5)
    assert metrics["loss"] == pytest.approx(np.mean(batch_losses), rel=1e-5)


def test_layers_built_outside_the_model_fn_are_refused(tmp_path):
    layer = tf.keras.layers.Dense(2)
    layer(tf.ones((1, 3)))

    def fn(features, labels, mode):
        logits = layer(features["x"])
        loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    estimator = tf.estimator.Estimator(fn, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="did not create in this call"):
        estimator.train(train_input_fn, steps=1)
