"""How many threads each framework used in a benchmark child, as one short table cell.

Issue #17 asks every row to say how many threads each peer ran on, so that a ratio can be
read as "same cores" or "one core against two":

  * numpyflow multiplies through its BLAS policy (numpyflow/backend/blas.py): one OpenBLAS
    thread for products below `SINGLE_THREAD_BELOW` multiply-adds, every core above. While
    the child warms up, `BlasThreadsSeen` watches which thread counts the policy picks (and
    how many Python threads are alive then: tf.data's prefetch and map workers), then stops
    watching before the timed epoch, so the timing runs unobserved; and whether the
    recurrences' partner process (numpyflow/backend/partner.py) is running after it;
  * PyTorch: `torch.get_num_threads()` (intra-op) and `torch.get_num_interop_threads()`;
  * TensorFlow: `tf.config.threading`'s intra- and inter-op settings, where 0 means TF's
    default (a pool with one thread per core), shown as that size with "(default)".

Example:

    with BlasThreadsSeen() as seen:
        model.fit(x[:warm], y[:warm], verbose=0)
    info["threads"] = seen.text()           # e.g. "BLAS 1" or "BLAS 1-2, 3 Python threads"
"""

import importlib
import os
import sys
import threading


def cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def numpyflow_blas():
    """numpyflow's BLAS policy module, or None where this checkout has none."""
    for name in ("numpyflow.backend.blas", "numpyflow.backend.numpy.blas"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "threads_for"):
            return module
    return None


class BlasThreadsSeen:
    """Records the BLAS thread counts numpyflow's policy picks while the block runs.

    It wraps the policy's `threads_for` (which every product asks for its thread count) and
    restores it on exit; the wrapper also notes the most Python threads seen alive.
    """

    def __init__(self):
        self.blas = numpyflow_blas()
        self.counts = set()
        self.python_threads = threading.active_count()

    def __enter__(self):
        if self.blas is not None:
            original = self._original = self.blas.threads_for

            def watched(multiply_adds):
                count = original(multiply_adds)
                self.counts.add(count)
                self.python_threads = max(self.python_threads, threading.active_count())
                return count
            self.blas.threads_for = watched
        return self

    def __exit__(self, *exc):
        if self.blas is not None:
            self.blas.threads_for = self._original
        return False

    def text(self):
        """e.g. "BLAS 1", "BLAS 1-2", "BLAS 1, 3 Python threads"; "?" without the policy."""
        if self.blas is None:
            return "? (no numpyflow BLAS policy found)"
        if not self.counts:
            blas = "BLAS -"  # No product ran through the policy.
        elif len(self.counts) == 1:
            blas = f"BLAS {next(iter(self.counts))}"
        else:
            blas = f"BLAS {min(self.counts)}-{max(self.counts)}"
        if self.python_threads > 1:
            blas += f", {self.python_threads} Python threads"
        if partner_running():
            blas += ", 1 partner process"
        return blas


def partner_running():
    """Whether numpyflow's partner process (half of each recurrence) is up in this child
    (never imports it: a child that ran no recurrence has not loaded it)."""
    current = getattr(sys.modules.get("numpyflow.backend.partner"), "_partner", None)
    return bool(current is not None and current.alive and current.ready)


def torch_text(torch):
    """PyTorch's intra-op and inter-op thread counts, e.g. "2 (inter-op 2)"."""
    return f"{torch.get_num_threads()} (inter-op {torch.get_num_interop_threads()})"


def tensorflow_text(tf):
    """TF's intra- and inter-op pool sizes, e.g. "intra 2 (default), inter 2 (default)": a
    setting of 0 means TF's default, one thread per core."""
    def size(name, setting):
        return f"{name} {setting}" if setting else f"{name} {cores()} (default)"
    return ", ".join((size("intra", tf.config.threading.get_intra_op_parallelism_threads()),
                      size("inter", tf.config.threading.get_inter_op_parallelism_threads())))
