"""What the premade estimators share: argument checks, the feature dict check, the head."""

from numpyflow.estimator.canned.head import (
    SUM_OVER_BATCH_SIZE, ClassificationHead, RegressionHead)


def check_features(features, owner):
    if not isinstance(features, dict):
        raise ValueError(f"{owner}: features should be a dictionary of `Tensor`s. Given type: "
                         f"{type(features)}")


def check_columns(feature_columns, owner, argument="feature_columns"):
    if feature_columns is None:
        raise ValueError(f"{owner}: {argument} must be given.")
    columns = list(feature_columns) if isinstance(feature_columns, (list, tuple, set)) \
        else [feature_columns]
    if not columns:
        raise ValueError(f"{owner}: {argument} must not be empty.")
    return columns


def classification_head(owner, n_classes, weight_column, label_vocabulary, loss_reduction):
    return ClassificationHead(n_classes, owner, weight_column, label_vocabulary,
                              loss_reduction or SUM_OVER_BATCH_SIZE)


def regression_head(owner, label_dimension, weight_column, loss_reduction):
    return RegressionHead(label_dimension, owner, weight_column,
                          loss_reduction or SUM_OVER_BATCH_SIZE)
