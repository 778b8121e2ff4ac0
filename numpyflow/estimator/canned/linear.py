"""`LinearClassifier`, `LinearRegressor`: a weighted sum of feature columns.

The model is `tf.feature_column.LinearModel(feature_columns, units, sparse_combiner,
name="linear/linear_model")`: variables `linear/linear_model/<column>/weights` and
`linear/linear_model/bias_weights`, zeros at first, as TF's. The default optimizer is
`Ftrl` with learning rate `min(0.2, 1 / sqrt(len(feature_columns)))`; a name makes that
optimizer with the same rate.

    >>> import numpyflow as tf
    >>> columns = [tf.feature_column.numeric_column("x")]
    >>> classifier = tf.estimator.LinearClassifier(columns)  # doctest: +SKIP
"""

import math

from numpyflow.estimator.canned import _base
from numpyflow.estimator.canned.optimizers import (
    ApplyGradientsOp, check_optimizer, make_optimizer)
from numpyflow.estimator.estimator import Estimator

LEARNING_RATE = 0.2


def default_learning_rate(columns, cap=LEARNING_RATE):
    return min(cap, 1.0 / math.sqrt(len(columns)))


def linear_logits(features, feature_columns, units, sparse_combiner):
    """The linear model's logits for `features`, and its trainable variables."""
    from numpyflow.feature_column.linear_model import LinearModel
    model = LinearModel(feature_columns, units=units, sparse_combiner=sparse_combiner,
                        name="linear/linear_model")
    logits = model(features)
    return logits, list(model.trainable_weights)


class _LinearBase(Estimator):
    def __init__(self, owner, head, feature_columns, model_dir, optimizer, config,
                 warm_start_from, sparse_combiner):
        columns = _base.check_columns(feature_columns, owner)
        check_optimizer(optimizer, owner)
        if sparse_combiner not in ("mean", "sqrtn", "sum"):
            raise ValueError(f"{owner}: sparse_combiner must be one of 'mean', 'sqrtn' or "
                             f"'sum'; received {sparse_combiner!r}.")
        rate = default_learning_rate(columns)

        def model_fn(features, labels, mode, config):
            _base.check_features(features, owner)
            logits, variables = linear_logits(features, columns, head.logits_dimension,
                                              sparse_combiner)

            def train_op_fn(loss):
                return ApplyGradientsOp(loss, [(make_optimizer(optimizer, rate), variables)])

            return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class LinearClassifier(_LinearBase):
    """A linear classifier on feature columns (TF 2.15's `tf.estimator.LinearClassifier`).

    Args:
      feature_columns: Any columns: categorical (with hash buckets, vocabularies,
        identity), crossed, bucketized, numeric, weighted categorical.
      model_dir, config, warm_start_from: As `Estimator`.
      n_classes, weight_column, label_vocabulary, loss_reduction: As `DNNClassifier`.
      optimizer: `"Ftrl"` (default), another name, a Keras or v1 optimizer, or a callable.
      sparse_combiner: How several ids of one column in one example combine: "sum",
        "mean" or "sqrtn".
    """

    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=None, sparse_combiner="sum"):
        head = _base.classification_head("LinearClassifier", n_classes, weight_column,
                                         label_vocabulary, loss_reduction)
        super().__init__("LinearClassifier", head, feature_columns, model_dir, optimizer,
                         config, warm_start_from, sparse_combiner)


class LinearRegressor(_LinearBase):
    """A linear regressor on feature columns (TF 2.15's `tf.estimator.LinearRegressor`).

    Args: as `LinearClassifier`, with `label_dimension` instead of `n_classes` and
    `label_vocabulary`.
    """

    def __init__(self, feature_columns, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Ftrl", config=None, warm_start_from=None, loss_reduction=None,
                 sparse_combiner="sum"):
        head = _base.regression_head("LinearRegressor", label_dimension, weight_column,
                                     loss_reduction)
        super().__init__("LinearRegressor", head, feature_columns, model_dir, optimizer,
                         config, warm_start_from, sparse_combiner)
