"""`DNNLinearCombinedClassifier`/`Regressor`: "wide & deep", the sum of a linear model's
and a DNN's logits, each part trained by its own optimizer.

Defaults as TF 2.15: `linear_optimizer="Ftrl"` with learning rate `min(0.005, 1 /
sqrt(len(linear_feature_columns)))`, `dnn_optimizer="Adagrad"` with 0.001. Variables as
`LinearClassifier`'s and `DNNClassifier`'s.
"""

import numpyflow as tf
from numpyflow.estimator.canned import _base
from numpyflow.estimator.canned.dnn import check_dnn_arguments, dnn_logits
from numpyflow.estimator.canned.linear import default_learning_rate, linear_logits
from numpyflow.estimator.canned.optimizers import (
    ApplyGradientsOp, check_optimizer, make_optimizer)
from numpyflow.estimator.estimator import Estimator

DNN_LEARNING_RATE = 0.001
LINEAR_LEARNING_RATE = 0.005


class _CombinedBase(Estimator):
    def __init__(self, owner, head, model_dir, linear_feature_columns, linear_optimizer,
                 dnn_feature_columns, dnn_optimizer, dnn_hidden_units, dnn_activation_fn,
                 dnn_dropout, config, warm_start_from, batch_norm, linear_sparse_combiner):
        linear_columns = list(linear_feature_columns or [])
        dnn_columns = list(dnn_feature_columns or [])
        if not linear_columns and not dnn_columns:
            raise ValueError("Either linear_feature_columns or dnn_feature_columns must be "
                             "defined.")
        if dnn_columns:
            if not dnn_hidden_units:
                raise ValueError(f"dnn_hidden_units must be defined when dnn_feature_columns "
                                 f"is specified. dnn_feature_columns: {dnn_columns}")
            check_dnn_arguments(owner, dnn_hidden_units, dnn_dropout)
        check_optimizer(linear_optimizer, owner)
        check_optimizer(dnn_optimizer, owner)
        activation = tf.nn.relu if dnn_activation_fn is None else dnn_activation_fn
        linear_rate = default_learning_rate(linear_columns, LINEAR_LEARNING_RATE) \
            if linear_columns else LINEAR_LEARNING_RATE

        def model_fn(features, labels, mode, config):
            _base.check_features(features, owner)
            parts, logits = [], None
            if dnn_columns:
                dnn_out, dnn_variables = dnn_logits(
                    features, mode, list(dnn_hidden_units), dnn_columns, activation,
                    dnn_dropout, batch_norm, head.logits_dimension)
                logits = dnn_out
                parts.append((dnn_optimizer, DNN_LEARNING_RATE, dnn_variables))
            if linear_columns:
                linear_out, linear_variables = linear_logits(
                    features, linear_columns, head.logits_dimension, linear_sparse_combiner)
                logits = linear_out if logits is None else logits + linear_out
                parts.append((linear_optimizer, linear_rate, linear_variables))

            def train_op_fn(loss):
                return ApplyGradientsOp(loss, [(make_optimizer(optimizer, rate), variables)
                                               for optimizer, rate, variables in parts])

            return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class DNNLinearCombinedClassifier(_CombinedBase):
    """A wide & deep classifier (TF 2.15's `tf.estimator.DNNLinearCombinedClassifier`).

    Args:
      linear_feature_columns, linear_optimizer: The linear part (see `LinearClassifier`).
      dnn_feature_columns, dnn_optimizer, dnn_hidden_units, dnn_activation_fn,
        dnn_dropout, batch_norm: The DNN part (see `DNNClassifier`).
      n_classes, weight_column, label_vocabulary, loss_reduction: As `DNNClassifier`.
      model_dir, config, warm_start_from: As `Estimator`.
      linear_sparse_combiner: The linear part's `sparse_combiner`.
    """

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, config=None, warm_start_from=None, loss_reduction=None,
                 batch_norm=False, linear_sparse_combiner="sum"):
        head = _base.classification_head("DNNLinearCombinedClassifier", n_classes,
                                         weight_column, label_vocabulary, loss_reduction)
        super().__init__("DNNLinearCombinedClassifier", head, model_dir, linear_feature_columns,
                         linear_optimizer, dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                         dnn_activation_fn, dnn_dropout, config, warm_start_from, batch_norm,
                         linear_sparse_combiner)


class DNNLinearCombinedRegressor(_CombinedBase):
    """A wide & deep regressor (TF 2.15's `tf.estimator.DNNLinearCombinedRegressor`).

    Args: as `DNNLinearCombinedClassifier`, with `label_dimension` instead of `n_classes`
    and `label_vocabulary`.
    """

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, label_dimension=1, weight_column=None,
                 config=None, warm_start_from=None, loss_reduction=None, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = _base.regression_head("DNNLinearCombinedRegressor", label_dimension,
                                     weight_column, loss_reduction)
        super().__init__("DNNLinearCombinedRegressor", head, model_dir, linear_feature_columns,
                         linear_optimizer, dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                         dnn_activation_fn, dnn_dropout, config, warm_start_from, batch_norm,
                         linear_sparse_combiner)
