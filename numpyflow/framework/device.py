"""`tf.device` and `tf.DeviceSpec`: device names, parsed as TF parses them.

numpyflow computes on the CPU only. `tf.device` accepts any well-formed device name and
runs its block on the CPU, as TF does with soft device placement (its default) when the
requested device does not exist: `with tf.device('/GPU:0'):` code runs unchanged.
A malformed name raises TF's ValueError.

    >>> import numpyflow as tf
    >>> with tf.device('/GPU:0'):
    ...     y = tf.constant(1.) + 1.
    >>> y.device
    '/job:localhost/replica:0/task:0/device:CPU:0'
"""

import contextlib

_FIELDS = ("job", "replica", "task", "device_type", "device_index")


class DeviceSpec:
    """A device's name split into its parts (`tf.DeviceSpec`).

    Args:
        job: The job name ("worker"), or None.
        replica: The replica index, or None.
        task: The task index, or None.
        device_type: "CPU", "GPU", "TPU", ..., or None.
        device_index: The device's index, or None.

    Example:
        >>> import numpyflow as tf
        >>> spec = tf.DeviceSpec.from_string('/job:worker/task:1/device:GPU:0')
        >>> spec.job, spec.task, spec.device_type, spec.to_string()
        ('worker', 1, 'GPU', '/job:worker/task:1/device:GPU:0')
    """

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self._job = None if job is None else str(job)
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        self._device_type = None if device_type is None else _normal_type(str(device_type))
        self._device_index = None if device_index is None else int(device_index)

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    @classmethod
    def from_string(cls, spec):
        """Parses a device name such as '/job:w/replica:0/task:1/device:GPU:0' or '/CPU:1'."""
        return cls(**_parse(spec))

    def to_string(self):
        """The device name in TF's canonical form ('/job:w/device:CPU:0')."""
        parts = []
        if self._job is not None:
            parts.append(f"/job:{self._job}")
        if self._replica is not None:
            parts.append(f"/replica:{self._replica}")
        if self._task is not None:
            parts.append(f"/task:{self._task}")
        if self._device_type is not None:
            index = "*" if self._device_index is None else self._device_index
            parts.append(f"/device:{self._device_type}:{index}")
        return "".join(parts)

    def replace(self, **kwargs):
        """A copy with the given fields changed."""
        fields = {name: getattr(self, name) for name in _FIELDS}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev):
        """A copy with the fields `dev` sets taking precedence."""
        fields = {name: getattr(self, name) for name in _FIELDS}
        fields.update({name: getattr(dev, name) for name in _FIELDS
                       if getattr(dev, name) is not None})
        return DeviceSpec(**fields)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)}" for name in _FIELDS)
        return f"<DeviceSpec({inner})>"


def _normal_type(device_type):
    return device_type.upper() if device_type.upper() in ("CPU", "GPU", "TPU") else device_type


def _parse(spec):
    if not isinstance(spec, str):
        raise TypeError(f"A device name must be a string. Received: {spec!r}")
    fields = {}
    for part in [p for p in spec.split("/") if p]:
        pieces = part.split(":")
        head = pieces[0].lower()
        try:
            if head in ("job", "replica", "task") and len(pieces) == 2:
                fields[head] = pieces[1] if head == "job" else int(pieces[1])
                continue
            if head == "device" and len(pieces) in (2, 3):
                fields["device_type"] = pieces[1]
                if len(pieces) == 3 and pieces[2] != "*":
                    fields["device_index"] = int(pieces[2])
                continue
            if len(pieces) in (1, 2) and head.upper() in ("CPU", "GPU", "TPU"):
                fields["device_type"] = head.upper()
                if len(pieces) == 2 and pieces[1] != "*":
                    fields["device_index"] = int(pieces[1])
                continue
        except ValueError:
            pass
        raise ValueError(f"Unknown attribute '{part}' is encountered while parsing the device "
                         f"spec: '{spec}'.")
    return fields


@contextlib.contextmanager
def device(device_name):
    """Runs the block's ops on `device_name` (`tf.device`); numpyflow has only the CPU,
    so a well-formed name of any device runs them there, as TF's soft placement does.

    Args:
        device_name: A device name ('/CPU:0', '/GPU:1', '/job:worker/device:CPU:0'), a
            `tf.DeviceSpec`, or None (no placement).

    Raises:
        ValueError: `device_name` is malformed.
    """
    if isinstance(device_name, DeviceSpec) or device_name is None:
        yield
        return
    if callable(device_name):
        raise RuntimeError("tf.device does not support functions when eager execution is "
                           "enabled.")
    _parse(device_name)
    yield
