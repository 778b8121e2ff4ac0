"""`tf.nn`: activations, convolution, pooling, losses on logits."""

from numpyflow.ops.activation_ops import (  # noqa: F401
    elu, gelu, leaky_relu, relu6, selu, sigmoid, silu, softplus, softsign, swish, tanh)
from numpyflow.ops.conv_ops import (  # noqa: F401
    avg_pool, avg_pool1d, avg_pool2d, conv1d, conv1d_transpose, conv2d, conv2d_transpose,
    depthwise_conv2d, max_pool, max_pool1d, max_pool2d, separable_conv2d)
from numpyflow.ops.nn_ops import (  # noqa: F401
    bias_add, dropout, l2_loss, log_softmax, moments, relu, softmax,
    softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits)



def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """The loss of a custom loop's step under `tf.distribute`: see
    `numpyflow.distribute.loss_utils.compute_average_loss`.

    >>> import numpyflow as tf
    >>> float(tf.nn.compute_average_loss(tf.constant([1., 2., 3.]), global_batch_size=6))
    1.0
    """
    from numpyflow.distribute import loss_utils
    return loss_utils.compute_average_loss(per_example_loss, sample_weight, global_batch_size)


def scale_regularization_loss(regularization_loss):
    """`regularization_loss / num_replicas_in_sync` (see `numpyflow.distribute.loss_utils`)."""
    from numpyflow.distribute import loss_utils
    return loss_utils.scale_regularization_loss(regularization_loss)


from numpyflow.framework.dispatch import dispatch_namespace as _dispatch_namespace  # noqa: E402

_dispatch_namespace(globals(), "nn.")

from numpyflow.framework.lazy import lazy_attributes as _lazy_attributes  # noqa: E402
from numpyflow.framework.lazy import names_from as _names_from  # noqa: E402

# Less common tf.nn names load on first use (`import numpyflow` stays small).
__getattr__ = _lazy_attributes(globals(), {
    **_names_from("numpyflow.ops.math_more_ops", "l2_normalize zero_fraction", True),
    **_names_from("numpyflow.ops.sort_ops", "in_top_k top_k", True),
    **_names_from("numpyflow.ops.manipulation_ops", "depth_to_space space_to_depth", True),
    **_names_from("numpyflow.ops.normalization_ops", "batch_normalization", True),
}, dispatch_prefix="nn.")
