"""Where a replica writes files: the chief at the real path, the others in temporary dirs.

TF's rule for callbacks under a multi-worker strategy: every worker runs the same
saving code, but only the chief (rank 0) writes to the path the user gave; each other
worker writes under `<dir>/workertemp_<task_id>` and deletes that right after.

    >>> import numpyflow as tf
    >>> write_dirpath("logs", tf.distribute.get_strategy())
    'logs'
"""

import os
import shutil


def strategy_of(model):
    """The strategy `model` trains under (None for objects without one)."""
    return getattr(model, "distribute_strategy", None)


def _is_chief(strategy):
    return strategy is None or strategy.extended.should_checkpoint


def write_dirpath(dirpath, strategy):
    """`dirpath` on the chief; `dirpath/workertemp_<task_id>` on the other replicas."""
    if _is_chief(strategy):
        return dirpath
    return os.path.join(dirpath, f"workertemp_{strategy.cluster_resolver.task_id}")


def write_filepath(filepath, strategy):
    """`filepath` on the chief; the same name in the replica's temporary dir elsewhere."""
    directory, name = os.path.split(filepath)
    return os.path.join(write_dirpath(directory, strategy), name)


def remove_temp_dirpath(dirpath, strategy):
    """Deletes a non-chief replica's temporary dir under `dirpath` (no-op on the chief)."""
    if not _is_chief(strategy):
        shutil.rmtree(write_dirpath(dirpath, strategy), ignore_errors=True)


def remove_temp_dir_with_filepath(filepath, strategy):
    """Deletes the temporary dir `write_filepath(filepath, strategy)` wrote into."""
    remove_temp_dirpath(os.path.dirname(filepath), strategy)
