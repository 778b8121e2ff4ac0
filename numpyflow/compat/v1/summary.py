"""`tf.compat.v1.summary.scalar` in Estimator model_fns.

Inside an Estimator's model_fn the value is recorded and written to the event file in
`model_dir` with the loss, every `save_summary_steps` steps (TRAIN mode); outside one it
is written with `tf.summary.scalar` at the global step, to the default writer.

    >>> import numpyflow as tf
    >>> tf.compat.v1.summary.scalar("x", 1.0) is None
    True
"""


def scalar(name, tensor, collections=None, family=None):
    """Records the scalar `tensor` under `name` (see module doc)."""
    if collections is not None or family is not None:
        raise NotImplementedError("tf.compat.v1.summary.scalar: `collections` and `family` are "
                                  "not supported.")
    from numpyflow.estimator import variable_store
    context = variable_store.current()
    if context is not None:
        context.summaries[name] = tensor
        return None
    from numpyflow import summary
    from numpyflow.compat.v1.train import get_global_step
    step = get_global_step()
    summary.scalar(name, tensor, step=None if step is None else int(step.numpy()))
    return None
