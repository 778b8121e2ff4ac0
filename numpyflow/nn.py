"""`tf.nn`: activations, convolution, pooling, losses on logits."""

from numpyflow.ops.activation_ops import (  # noqa: F401
    elu, gelu, leaky_relu, relu6, selu, sigmoid, silu, softplus, softsign, swish, tanh)
from numpyflow.ops.conv_ops import (  # noqa: F401
    avg_pool, avg_pool2d, conv2d, conv2d_transpose, max_pool, max_pool2d)
from numpyflow.ops.nn_ops import (  # noqa: F401
    bias_add, dropout, l2_loss, log_softmax, moments, relu, softmax,
    softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits)
