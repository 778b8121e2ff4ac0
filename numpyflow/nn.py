"""`tf.nn`: activations, convolution, pooling, losses on logits."""

from numpyflow.ops.nn_ops import (  # noqa: F401
    bias_add, log_softmax, relu, softmax, sparse_softmax_cross_entropy_with_logits)
