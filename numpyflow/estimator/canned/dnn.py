"""`DNNClassifier`, `DNNRegressor`, `DNNEstimator`: a feed-forward network on feature columns.

The network: `DenseFeatures(feature_columns)`, then per hidden layer `Dense(units,
activation_fn)` (Glorot-uniform kernel), `Dropout(dropout)` in training when set,
`BatchNormalization(momentum=0.999)` when `batch_norm`; then a `Dense` logits layer. Its
variables have TF's names (`dnn/hiddenlayer_0/kernel`, ..., `dnn/logits/bias`). The
default optimizer is `Adagrad(learning_rate=0.05)`; a name makes that optimizer with
learning rate 0.05 (see `canned/optimizers.py`).

    >>> import numpyflow as tf
    >>> columns = [tf.feature_column.numeric_column("x")]
    >>> classifier = tf.estimator.DNNClassifier([4], columns, n_classes=3)  # doctest: +SKIP
"""

import numpyflow as tf
from numpyflow.estimator.canned import _base
from numpyflow.estimator.canned.optimizers import (
    ApplyGradientsOp, check_optimizer, make_optimizer)
from numpyflow.estimator.estimator import Estimator
from numpyflow.estimator.model_fn import ModeKeys

LEARNING_RATE = 0.05


def dnn_logits(features, mode, hidden_units, feature_columns, activation_fn, dropout,
               batch_norm, units):
    """The DNN's logits for `features`, and its trainable variables."""
    from numpyflow.keras import layers
    training = mode == ModeKeys.TRAIN
    used = [layers.DenseFeatures(feature_columns, name="dnn/input_from_feature_columns")]
    net = used[0](features)
    for index, count in enumerate(hidden_units):
        name = f"dnn/hiddenlayer_{index}"
        hidden = layers.Dense(count, activation=activation_fn,
                              kernel_initializer="glorot_uniform", name=name)
        used.append(hidden)
        net = hidden(net)
        if dropout is not None and training:
            net = layers.Dropout(dropout)(net, training=True)
        if batch_norm:
            norm = layers.BatchNormalization(momentum=0.999, name=f"{name}/batchnorm_{index}")
            used.append(norm)
            net = norm(net, training=training)
    logits_layer = layers.Dense(units, kernel_initializer="glorot_uniform", name="dnn/logits")
    used.append(logits_layer)
    logits = logits_layer(net)
    variables = [v for layer in used for v in layer.trainable_weights]
    return logits, variables


def check_dnn_arguments(owner, hidden_units, dropout):
    if hidden_units is None or not all(int(units) > 0 for units in hidden_units):
        raise ValueError(f"{owner}: hidden_units must be a list of positive integers; "
                         f"received {hidden_units!r}.")
    if dropout is not None and not 0 <= dropout < 1:
        raise ValueError(f"{owner}: dropout must be in [0, 1); received {dropout!r}.")


class _DNNBase(Estimator):
    def __init__(self, owner, head, hidden_units, feature_columns, model_dir, optimizer,
                 activation_fn, dropout, config, warm_start_from, batch_norm):
        columns = _base.check_columns(feature_columns, owner)
        check_dnn_arguments(owner, hidden_units, dropout)
        check_optimizer(optimizer, owner)
        activation_fn = tf.nn.relu if activation_fn is None else activation_fn

        def model_fn(features, labels, mode, config):
            _base.check_features(features, owner)
            logits, variables = dnn_logits(features, mode, list(hidden_units), columns,
                                           activation_fn, dropout, batch_norm,
                                           head.logits_dimension)

            def train_op_fn(loss):
                return ApplyGradientsOp(loss, [(make_optimizer(optimizer, LEARNING_RATE),
                                                variables)])

            return head.create_estimator_spec(features, mode, logits, labels, train_op_fn)

        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class DNNClassifier(_DNNBase):
    """A classifier with a feed-forward network (TF 2.15's `tf.estimator.DNNClassifier`).

    Args:
      hidden_units: Units per hidden layer, e.g. `[64, 32]`.
      feature_columns: The columns the network reads (dense ones: numeric, bucketized,
        indicator, embedding).
      model_dir, config, warm_start_from: As `Estimator`.
      n_classes: Number of classes (2: one logit, sigmoid).
      weight_column: Name (or numeric column) of a feature holding example weights.
      label_vocabulary: Class names, when labels are strings.
      optimizer: `"Adagrad"` (default), another name, a Keras or v1 optimizer, or a callable.
      activation_fn: The hidden layers' activation (`tf.nn.relu`).
      dropout: Drop probability in training, or None.
      loss_reduction: `"sum_over_batch_size"` (default) or `"sum"`.
      batch_norm: Whether to add batch normalization after each hidden layer.
    """

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Adagrad",
                 activation_fn=None, dropout=None, config=None, warm_start_from=None,
                 loss_reduction=None, batch_norm=False):
        head = _base.classification_head("DNNClassifier", n_classes, weight_column,
                                         label_vocabulary, loss_reduction)
        super().__init__("DNNClassifier", head, hidden_units, feature_columns, model_dir,
                         optimizer, activation_fn, dropout, config, warm_start_from, batch_norm)


class DNNRegressor(_DNNBase):
    """A regressor with a feed-forward network (TF 2.15's `tf.estimator.DNNRegressor`).

    Args: as `DNNClassifier`, with `label_dimension` (outputs per example, 1) instead of
    `n_classes` and `label_vocabulary`.
    """

    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Adagrad", activation_fn=None, dropout=None,
                 config=None, warm_start_from=None, loss_reduction=None, batch_norm=False):
        head = _base.regression_head("DNNRegressor", label_dimension, weight_column,
                                     loss_reduction)
        super().__init__("DNNRegressor", head, hidden_units, feature_columns, model_dir,
                         optimizer, activation_fn, dropout, config, warm_start_from, batch_norm)


class DNNEstimator:
    """A DNN with a custom head: not supported (the `tf.estimator` head objects are not
    part of numpyflow); use `DNNClassifier`/`DNNRegressor`."""

    def __init__(self, head, hidden_units, feature_columns, *args, **kwargs):
        raise NotImplementedError("tf.estimator.DNNEstimator with a custom `head` is not "
                                  "supported; use DNNClassifier or DNNRegressor.")
