"""`tf.distribute.experimental.CommunicationOptions` and `CommunicationImplementation`.

How a multi-worker strategy's collectives run. numpyflow's collectives are MPI calls
(`communicator.py`): `RING` asks Open MPI for its ring all-reduce; `AUTO` does too in jobs
of up to `communicator.AUTO_RING_MAX_RANKS` ranks (where it was measured faster for the
gradients) and otherwise lets Open MPI choose by message size; `NCCL` needs GPUs and is
refused.

    >>> import numpyflow as tf
    >>> options = tf.distribute.experimental.CommunicationOptions(bytes_per_pack=1 << 20,
    ...                                                           timeout_seconds=60)
    >>> options.bytes_per_pack, options.timeout_seconds, options.implementation
    (1048576, 60, <CommunicationImplementation.AUTO: 'AUTO'>)
"""

import enum


class CommunicationImplementation(enum.Enum):
    """Which collective implementation to use: AUTO and RING run on MPI; NCCL is not
    supported (numpyflow runs on CPUs)."""

    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


# TF's deprecated name of the same enum.
CollectiveCommunication = CommunicationImplementation


class CommunicationOptions:
    """Options for the cross-replica collectives of `MultiWorkerMirroredStrategy`.

    Args:
      bytes_per_pack: 0 (the default) all-reduces each dtype's gradients as one buffer;
        a positive number splits that buffer into packs of at most this many bytes, each
        its own MPI all-reduce, all started at once and then waited for together.
      timeout_seconds: Seconds a collective waits for the other ranks before raising
        `tf.errors.DeadlineExceededError`. None means numpyflow's default (the
        `NUMPYFLOW_COLLECTIVE_TIMEOUT` environment variable, else 300 s), not "wait
        forever" as in TF: a hung job is never what a user wants.
      implementation: A `CommunicationImplementation` (or its name): AUTO or RING (MPI
        either way); NCCL raises NotImplementedError when the strategy is made.
    """

    def __init__(self, bytes_per_pack=0, timeout_seconds=None,
                 implementation=CommunicationImplementation.AUTO):
        if isinstance(bytes_per_pack, bool) or not isinstance(bytes_per_pack, int):
            raise ValueError(f"Argument `bytes_per_pack` must be an integer; received "
                             f"bytes_per_pack={bytes_per_pack!r}.")
        if bytes_per_pack < 0:
            raise ValueError(f"Argument `bytes_per_pack` must be >=0, Received "
                             f"{bytes_per_pack}.")
        if timeout_seconds is not None and (isinstance(timeout_seconds, bool)
                                            or not isinstance(timeout_seconds, (int, float))
                                            or not timeout_seconds > 0):
            raise ValueError(f"Argument `timeout_seconds` must be None or a positive number "
                             f"of seconds; received timeout_seconds={timeout_seconds!r}.")
        if isinstance(implementation, str):
            implementation = CommunicationImplementation(implementation.upper())
        if not isinstance(implementation, CommunicationImplementation):
            raise ValueError("Argument `implementation` must be instance of "
                             "`tf.distribute.experimental.CommunicationImplementation`; "
                             f"received implementation={implementation!r}.")
        self.bytes_per_pack = bytes_per_pack
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation

    def merge(self, options):
        """A copy of these options with the non-default fields of `options` taking over."""
        merged = CommunicationOptions(self.bytes_per_pack, self.timeout_seconds,
                                      self.implementation)
        if options is None:
            return merged
        if options.bytes_per_pack != 0:
            merged.bytes_per_pack = options.bytes_per_pack
        if options.timeout_seconds is not None:
            merged.timeout_seconds = options.timeout_seconds
        if options.implementation is not CommunicationImplementation.AUTO:
            merged.implementation = options.implementation
        return merged

    def __repr__(self):
        return (f"CommunicationOptions(bytes_per_pack={self.bytes_per_pack}, "
                f"timeout_seconds={self.timeout_seconds}, "
                f"implementation={self.implementation})")


def check_supported(options, who="MultiWorkerMirroredStrategy"):
    """`options` (a CommunicationOptions, or None for the defaults), after refusing what MPI
    cannot do."""
    if options is None:
        return CommunicationOptions()
    if not isinstance(options, CommunicationOptions):
        raise ValueError(f"{who}: communication_options must be an instance of "
                         f"tf.distribute.experimental.CommunicationOptions; received "
                         f"{options!r}.")
    if options.implementation is CommunicationImplementation.NCCL:
        raise NotImplementedError(f"{who}: CommunicationImplementation.NCCL needs NVIDIA GPUs; "
                                  f"numpyflow's collectives run on MPI. Use "
                                  f"CommunicationImplementation.AUTO or RING.")
    return options


def asks_for_ring(options):
    """True for `CommunicationImplementation.RING`; None (the communicator decides) for AUTO."""
    return True if options.implementation is CommunicationImplementation.RING else None
