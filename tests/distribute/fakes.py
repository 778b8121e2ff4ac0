"""A stand-in communicator for in-process tests: this process plays replica `rank` of
`size`, and every other replica is taken to hold the same values as this one."""

import numpy as np

from numpyflow.distribute.communicator import Communicator


class MirrorCommunicator(Communicator):
    """`allreduce(x, "sum")` is `size * x`: as if each of `size` replicas held `x`."""

    def __init__(self, rank=0, size=2, signatures=None):
        self.rank = rank
        self.size = size
        self.calls = []
        self._signatures = signatures  # What allgather_object returns, if given.

    def allreduce(self, array, op):
        self.calls.append(("allreduce", op, np.shape(array)))
        array = np.asarray(array)
        if op == "sum":
            with np.errstate(all="ignore"):  # As MPI's sums: inf and NaN silently.
                return array * np.asarray(self.size, array.dtype)
        return np.array(array, copy=True)

    def broadcast(self, array, root=0):
        self.calls.append(("broadcast", root, np.shape(array)))
        return np.array(array, copy=True)

    def allgather_object(self, value):
        self.calls.append(("allgather", value))
        if self._signatures is not None:
            return self._signatures
        return [value] * self.size

    def barrier(self):
        pass
