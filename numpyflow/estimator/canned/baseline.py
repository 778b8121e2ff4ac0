"""`BaselineClassifier`, `BaselineRegressor`: predict from a learned bias alone (the
class prior, or the label mean), ignoring the features — the bar other models must beat.

The bias is `baseline/bias` (zeros at first); the default optimizer is `Ftrl` with
learning rate 0.3, as TF 2.15's.

    >>> import numpyflow as tf
    >>> baseline = tf.estimator.BaselineClassifier(n_classes=3)  # doctest: +SKIP
"""

import numpyflow as tf
from numpyflow.estimator import variable_store
from numpyflow.estimator.canned import _base
from numpyflow.estimator.canned.optimizers import (
    ApplyGradientsOp, check_optimizer, make_optimizer)
from numpyflow.estimator.estimator import Estimator

LEARNING_RATE = 0.3


def _batch_size(features, labels, weight_column, owner):
    if isinstance(features, dict) and features:
        key = getattr(weight_column, "key", weight_column) if weight_column is not None \
            else sorted(features)[0]
        if key in features:
            return int(tf.convert_to_tensor(features[key]).shape[0])
    if labels is not None:
        return int(tf.convert_to_tensor(labels).shape[0])
    raise ValueError(f"{owner}: cannot tell the batch size: the features dict is empty and "
                     f"there are no labels.")


def _ones_like_batch(features, weight_column, owner):
    """`[batch, 1]` ones computed from a feature by ops, for an export's traced call:
    `tf.ones((size, 1))` would be a constant of the traced batch size in the graph."""
    key = getattr(weight_column, "key", weight_column) if weight_column is not None \
        else sorted(features)[0]
    feature = tf.convert_to_tensor(features[key])
    if feature.dtype.name == "string" or not feature.shape:
        raise ValueError(f"{owner}: exporting needs a numeric feature with a batch "
                         f"dimension to size the predictions by; feature {key!r} has dtype "
                         f"{feature.dtype.name} and shape {tuple(feature.shape)}.")
    width = 1
    for size in feature.shape[1:]:
        width *= int(size)
    rows = tf.reshape(tf.cast(feature, tf.float32), (-1, width))
    return tf.reduce_sum(rows * 0.0, axis=1, keepdims=True) + 1.0


class _BaselineBase(Estimator):
    def __init__(self, owner, head, model_dir, optimizer, config, weight_column):
        check_optimizer(optimizer, owner)

        def model_fn(features, labels, mode, config):
            size = _batch_size(features, labels, weight_column, owner)
            bias = tf.Variable(tf.zeros((head.logits_dimension,)), name="baseline/bias")
            context = variable_store.current()
            if context is not None and context.serving:
                ones = _ones_like_batch(features, weight_column, owner)
            else:
                ones = tf.ones((size, 1))
            logits = ones * tf.expand_dims(bias, 0)

            def train_op_fn(loss):
                return ApplyGradientsOp(loss, [(make_optimizer(optimizer, LEARNING_RATE),
                                                [bias])])

            return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

        super().__init__(model_fn, model_dir=model_dir, config=config)


class BaselineClassifier(_BaselineBase):
    """Predicts the class distribution of the training labels (TF 2.15's
    `tf.estimator.BaselineClassifier`).

    Args:
      model_dir, config: As `Estimator`.
      n_classes, weight_column, label_vocabulary, loss_reduction: As `DNNClassifier`.
      optimizer: `"Ftrl"` (default), another name, a Keras or v1 optimizer, or a callable.
    """

    def __init__(self, model_dir=None, n_classes=2, weight_column=None, label_vocabulary=None,
                 optimizer="Ftrl", config=None, loss_reduction=None):
        head = _base.classification_head("BaselineClassifier", n_classes, weight_column,
                                         label_vocabulary, loss_reduction)
        super().__init__("BaselineClassifier", head, model_dir, optimizer, config,
                         weight_column)


class BaselineRegressor(_BaselineBase):
    """Predicts the mean of the training labels (TF 2.15's `tf.estimator.BaselineRegressor`).

    Args: as `BaselineClassifier`, with `label_dimension` instead of `n_classes` and
    `label_vocabulary`.
    """

    def __init__(self, model_dir=None, label_dimension=1, weight_column=None, optimizer="Ftrl",
                 config=None, loss_reduction=None):
        head = _base.regression_head("BaselineRegressor", label_dimension, weight_column,
                                     loss_reduction)
        super().__init__("BaselineRegressor", head, model_dir, optimizer, config,
                         weight_column)
