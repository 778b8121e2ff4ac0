"""`tf.estimator.ModeKeys` and `tf.estimator.EstimatorSpec`: what a `model_fn` returns."""

import collections


class ModeKeys:
    """The three modes a `model_fn` is called in: `TRAIN`, `EVAL` and `PREDICT`.

    >>> import numpyflow as tf
    >>> tf.estimator.ModeKeys.TRAIN, tf.estimator.ModeKeys.EVAL, tf.estimator.ModeKeys.PREDICT
    ('train', 'eval', 'infer')
    """

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


_SPEC_FIELDS = ("mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs",
                "training_chief_hooks", "training_hooks", "scaffold", "evaluation_hooks",
                "prediction_hooks")


class EstimatorSpec(collections.namedtuple("EstimatorSpec", _SPEC_FIELDS)):
    """What a `model_fn` returns for one mode.

    Args:
      mode: A `ModeKeys` value.
      predictions: A Tensor or a dict of Tensors (required in PREDICT mode).
      loss: A scalar Tensor (required in TRAIN and EVAL modes).
      train_op: The op `optimizer.minimize(...)` returned (required in TRAIN mode); a
        list/tuple of such ops, or a Tensor (an update that already ran), also work.
      eval_metric_ops: A dict: name -> a Keras `Metric` object (updated in the model_fn)
        or a `(value, update_op)` pair from `tf.compat.v1.metrics`.
      export_outputs: PREDICT mode: a dict {signature key: `tf.estimator.export`
        `PredictOutput`/`ClassificationOutput`/`RegressionOutput`}, the signatures
        `Estimator.export_saved_model` writes; None: `{"serving_default":
        PredictOutput(predictions)}`, and a lone output is also `"serving_default"`, as TF.
      training_chief_hooks, training_hooks, evaluation_hooks, prediction_hooks: lists of
        `SessionRunHook`s run in that mode.
      scaffold: Not supported; must be None.

    >>> import numpyflow as tf
    >>> spec = tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.PREDICT,
    ...                                   predictions={"y": tf.constant([1.])})
    >>> spec.mode
    'infer'
    """

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None,
                export_outputs=None, training_chief_hooks=None, training_hooks=None,
                scaffold=None, evaluation_hooks=None, prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError(f"EstimatorSpec: mode must be one of tf.estimator.ModeKeys "
                             f"('train', 'eval', 'infer'); received mode={mode!r}.")
        if scaffold is not None:
            raise NotImplementedError(f"EstimatorSpec: `scaffold` is not supported in "
                                      f"numpyflow; received scaffold={scaffold!r}.")
        if mode == ModeKeys.TRAIN and train_op is None:
            raise ValueError("Missing train_op.")
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL) and loss is None:
            raise ValueError("Missing loss.")
        if mode == ModeKeys.PREDICT and predictions is None:
            raise ValueError("Missing predictions.")
        if eval_metric_ops is not None and not isinstance(eval_metric_ops, dict):
            raise TypeError(f"EstimatorSpec: eval_metric_ops must be a dict; received "
                            f"{type(eval_metric_ops).__name__}.")
        if mode == ModeKeys.PREDICT:
            # As TF: the signatures are settled (and checked) when the spec is made.
            from numpyflow.estimator.export import get_export_outputs
            export_outputs = get_export_outputs(export_outputs, predictions)
        hooks = [tuple(h or ()) for h in (training_chief_hooks, training_hooks,
                                          evaluation_hooks, prediction_hooks)]
        return super().__new__(cls, mode, predictions, loss, train_op, eval_metric_ops or {},
                               export_outputs, hooks[0], hooks[1], None, hooks[2], hooks[3])
