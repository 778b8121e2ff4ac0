"""`tf.nn.compute_average_loss` and `tf.nn.scale_regularization_loss`: losses of custom
training loops, scaled so that summing the replicas' gradients gives the global mean."""

from numpyflow.distribute import strategy as distribute_lib


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """`sum(per_example_loss * sample_weight) / global_batch_size`.

    Args:
      per_example_loss: This replica's per-example losses (first axis: the examples).
      sample_weight: Optional weights, broadcast against `per_example_loss`.
      global_batch_size: The examples of the step on all replicas together; by default
        this replica's batch times `num_replicas_in_sync`.

    Returns:
      A scalar: this replica's share of the global mean loss.

    >>> import numpyflow as tf
    >>> float(tf.nn.compute_average_loss(tf.constant([1., 2., 3.]), global_batch_size=6))
    1.0
    """
    import numpyflow as tf
    loss = tf.convert_to_tensor(per_example_loss)
    if not loss.dtype.is_floating:
        raise TypeError(f"compute_average_loss: `per_example_loss` must be a floating tensor; "
                        f"received dtype {loss.dtype.name}.")
    if loss.shape.rank == 0:
        raise ValueError(f"compute_average_loss: Invalid value passed for `per_example_loss`. "
                         f"Expected a tensor with at least rank 1. Received "
                         f"per_example_loss={float(loss.numpy())!r} with rank 0")
    if sample_weight is not None:
        loss = loss * tf.cast(sample_weight, loss.dtype)
    if global_batch_size is None:
        # A replica whose piece of an uneven global batch is empty gives 0, as in TF.
        replicas = distribute_lib.get_strategy().num_replicas_in_sync
        global_batch_size = loss.shape[0] * replicas
        if global_batch_size == 0:
            return tf.reduce_sum(loss)
    if isinstance(global_batch_size, bool) or not global_batch_size > 0:
        raise ValueError(f"compute_average_loss: `global_batch_size` must be positive; "
                         f"received global_batch_size={global_batch_size!r}.")
    return tf.reduce_sum(loss) / tf.cast(global_batch_size, loss.dtype)


def scale_regularization_loss(regularization_loss):
    """`regularization_loss / num_replicas_in_sync`: summed over the replicas, it counts
    once.

    >>> import numpyflow as tf
    >>> float(tf.nn.scale_regularization_loss(tf.constant(2.)))
    2.0
    """
    import numpyflow as tf
    loss = tf.add_n(regularization_loss) if isinstance(regularization_loss, (list, tuple)) \
        else tf.convert_to_tensor(regularization_loss)
    replicas = distribute_lib.get_strategy().num_replicas_in_sync
    return loss / tf.cast(replicas, loss.dtype)
