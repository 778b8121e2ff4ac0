"""`tf.config`: the devices numpyflow runs on (one CPU) and its runtime settings.

numpyflow computes with NumPy on the CPU, so TF's device queries describe one CPU and no
GPU: the tutorial line `len(tf.config.list_physical_devices('GPU'))` gives 0. Settings
that change nothing here (soft placement, XLA's JIT, op determinism: numpyflow's kernels
are deterministic already) are kept and read back as TF's are, so code that sets and
checks them runs unchanged. Two settings act:

  * `threading.set_intra_op_parallelism_threads(n)` caps the threads numpyflow's kernels
    use (BLAS products and batch splits, `backend/blas.py`);
  * `run_functions_eagerly(True)` makes every `tf.function` run its Python code.

These are process-wide, as in TF: they describe the process, not an object.

    >>> import numpyflow as tf
    >>> len(tf.config.list_physical_devices('GPU'))
    0
    >>> tf.config.list_physical_devices('CPU')
    [PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]
"""

import collections as _collections
import types as _types

from numpyflow.framework import function as _function

# The device types TF knows; numpyflow has only the CPU, the others list as empty.
_KNOWN_DEVICE_TYPES = ("CPU", "GPU", "TPU", "XLA_CPU", "XLA_GPU", "TPU_SYSTEM")


class PhysicalDevice(_collections.namedtuple("PhysicalDevice", ["name", "device_type"])):
    """A device of the machine (`tf.config.PhysicalDevice`): its name and type."""

    __slots__ = ()


class LogicalDevice(_collections.namedtuple("LogicalDevice", ["name", "device_type"])):
    """A device ops are placed on (`tf.config.LogicalDevice`): its name and type."""

    __slots__ = ()


class LogicalDeviceConfiguration(
        _collections.namedtuple("LogicalDeviceConfiguration",
                               ["memory_limit", "experimental_priority",
                                "experimental_device_ordinal"])):
    """How one logical device is carved out of a physical one
    (`tf.config.LogicalDeviceConfiguration`; on the CPU only their number matters)."""

    __slots__ = ()

    def __new__(cls, memory_limit=None, experimental_priority=None,
                experimental_device_ordinal=None):
        return super().__new__(cls, memory_limit, experimental_priority,
                               experimental_device_ordinal)


_CPU = PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")


class _Settings:
    """The process's runtime settings (one instance: TF's settings are per process)."""

    def __init__(self):
        self.visible = [_CPU]
        self.cpu_configuration = None  # A list of LogicalDeviceConfiguration, or None.
        self.intra_op_threads = 0      # 0: TF's "let the runtime choose".
        self.inter_op_threads = 0
        self.soft_device_placement = True
        self.op_determinism = False
        self.tensor_float_32 = True
        self.jit = ""
        self.optimizer_options = {}


_settings = _Settings()


def _check_device_type(device_type, op):
    if device_type is not None and not isinstance(device_type, str):
        raise ValueError(f"tf.config.{op}: device_type must be a string such as 'CPU' or "
                         f"'GPU'. Received: device_type={device_type!r}")


def list_physical_devices(device_type=None):
    """The machine's devices of `device_type` ('CPU', 'GPU', ...; None: all): one CPU.

    Example:
        >>> import numpyflow as tf
        >>> tf.config.list_physical_devices('GPU')
        []
    """
    _check_device_type(device_type, "list_physical_devices")
    if device_type is None or device_type.upper() == "CPU":
        return [_CPU]
    return []


def list_logical_devices(device_type=None):
    """The devices ops may run on: the CPU (or the virtual CPUs it was split into by
    `set_logical_device_configuration`).

    Example:
        >>> import numpyflow as tf
        >>> tf.config.list_logical_devices()
        [LogicalDevice(name='/device:CPU:0', device_type='CPU')]
    """
    _check_device_type(device_type, "list_logical_devices")
    if device_type is not None and device_type.upper() != "CPU":
        return []
    count = len(_settings.cpu_configuration or [None])
    return [LogicalDevice(name=f"/device:CPU:{i}", device_type="CPU") for i in range(count)]


def get_visible_devices(device_type=None):
    """The physical devices the runtime may use (`set_visible_devices`).

    Example:
        >>> import numpyflow as tf
        >>> [d.device_type for d in tf.config.get_visible_devices()]
        ['CPU']
    """
    _check_device_type(device_type, "get_visible_devices")
    return [d for d in _settings.visible
            if device_type is None or d.device_type == device_type.upper()]


def set_visible_devices(devices, device_type=None):
    """Restricts the devices the runtime may use. Hiding GPUs (the usual call,
    `set_visible_devices([], 'GPU')`) is accepted; the CPU cannot be hidden.

    Example:
        >>> import numpyflow as tf
        >>> tf.config.set_visible_devices([], 'GPU')
    """
    _check_device_type(device_type, "set_visible_devices")
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    devices = list(devices)
    for device in devices:
        if not isinstance(device, PhysicalDevice) or device not in list_physical_devices():
            raise ValueError(f"tf.config.set_visible_devices: unrecognized device {device!r}; "
                             f"expected one of tf.config.list_physical_devices(): "
                             f"{list_physical_devices()}.")
    if device_type is not None:
        for device in devices:
            if device.device_type != device_type.upper():
                raise ValueError(f"tf.config.set_visible_devices: Unrecognized device "
                                 f"{device!r} for device_type={device_type!r}; expected "
                                 f"devices of that type.")
        if device_type.upper() != "CPU":
            return  # No device of that type exists: nothing to show or hide.
    if _CPU not in devices:
        raise ValueError("tf.config.set_visible_devices: the CPU must remain visible (it is "
                         "the only device numpyflow computes on). Received: "
                         f"devices={devices}, device_type={device_type!r}")


def _check_physical(device, op):
    if not isinstance(device, PhysicalDevice):
        raise ValueError(f"tf.config.{op}: expected a tf.config.PhysicalDevice (from "
                         f"tf.config.list_physical_devices()). Received: {device!r}")
    if device not in list_physical_devices():
        raise ValueError(f"tf.config.{op}: unrecognized device: {device!r}")


def get_logical_device_configuration(device):
    """The logical devices `device` is split into, or None when it is not split.

    Example:
        >>> import numpyflow as tf
        >>> print(tf.config.get_logical_device_configuration(tf.config.list_physical_devices()[0]))
        None
    """
    _check_physical(device, "get_logical_device_configuration")
    configuration = _settings.cpu_configuration
    return None if configuration is None else list(configuration)


def set_logical_device_configuration(device, logical_devices):
    """Splits the CPU into several logical CPUs (as TF's virtual CPUs for trying
    distribution strategies on one machine); they all compute on the same cores.

    Example:
        >>> import numpyflow as tf
        >>> cpu = tf.config.list_physical_devices('CPU')[0]
        >>> tf.config.set_logical_device_configuration(
        ...     cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        >>> len(tf.config.list_logical_devices('CPU'))
        2
        >>> tf.config.set_logical_device_configuration(cpu, None)  # back to one
    """
    _check_physical(device, "set_logical_device_configuration")
    if logical_devices is None:
        _settings.cpu_configuration = None
        return
    logical_devices = list(logical_devices)
    if not logical_devices or not all(isinstance(d, LogicalDeviceConfiguration)
                                       for d in logical_devices):
        raise ValueError("tf.config.set_logical_device_configuration: expected a non-empty "
                         "list of tf.config.LogicalDeviceConfiguration. Received: "
                         f"{logical_devices!r}")
    if any(d.memory_limit is not None for d in logical_devices):
        # TF's message for a CPU: memory limits apply to GPUs only.
        raise ValueError("Setting memory limit on CPU virtual devices is currently not "
                         "supported")
    _settings.cpu_configuration = logical_devices


def get_soft_device_placement():
    """Whether ops without a kernel on the requested device fall back to another (True).

    numpyflow runs everything on the CPU whatever `tf.device` asks for, as TF does with
    soft placement on.
    """
    return _settings.soft_device_placement


def set_soft_device_placement(enabled):
    """Records the soft placement setting (numpyflow always places ops on the CPU)."""
    _settings.soft_device_placement = bool(enabled)


def run_functions_eagerly(run_eagerly):
    """Makes every `tf.function` run its Python code eagerly (True) or compile it (False).

    Useful for debugging: breakpoints and prints inside the function then run every call.

    Example:
        >>> import numpyflow as tf
        >>> tf.config.run_functions_eagerly(True)
        >>> tf.config.functions_run_eagerly()
        True
        >>> tf.config.run_functions_eagerly(False)
    """
    _function.run_functions_eagerly(run_eagerly)


def functions_run_eagerly():
    """Whether `run_functions_eagerly(True)` is in effect."""
    return _function.functions_run_eagerly()


def experimental_run_functions_eagerly(run_eagerly):
    """Deprecated alias of `run_functions_eagerly`."""
    run_functions_eagerly(run_eagerly)


def experimental_functions_run_eagerly():
    """Deprecated alias of `functions_run_eagerly`."""
    return functions_run_eagerly()


# -- tf.config.experimental -----------------------------------------------------------------

def _set_memory_growth(device, enable):
    """`tf.config.experimental.set_memory_growth`: for GPUs only, as in TF."""
    _check_physical(device, "experimental.set_memory_growth")
    raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")


def _get_memory_growth(device):
    """`tf.config.experimental.get_memory_growth`: for GPUs only, as in TF."""
    _check_physical(device, "experimental.get_memory_growth")
    raise ValueError("Cannot get memory growth on non-GPU and non-Pluggable devices")


def _get_device_details(device):
    """`tf.config.experimental.get_device_details`: TF gives a CPU no details ({})."""
    _check_physical(device, "experimental.get_device_details")
    return {}


def _check_memory_device(device, op):
    """Raises TF's error unless `device` ('CPU:0', '/device:CPU:0') names the CPU."""
    from numpyflow.framework import device as device_module
    try:
        spec = device_module.DeviceSpec.from_string(device)
    except (TypeError, ValueError):
        spec = None
    if spec is None or spec.device_type != "CPU" or spec.device_index not in (None, 0):
        raise ValueError(f"No matching devices found for {device!r} "
                         f"(tf.config.experimental.{op}: numpyflow has one device, 'CPU:0').")


def _get_memory_info(device):
    """`tf.config.experimental.get_memory_info`: TF tracks no CPU allocations and reports
    zeros for the CPU, as numpyflow does; any other device does not exist here.

    Example:
        >>> import numpyflow as tf
        >>> tf.config.experimental.get_memory_info('CPU:0')
        {'current': 0, 'peak': 0}
    """
    _check_memory_device(device, "get_memory_info")
    return {"current": 0, "peak": 0}


def _reset_memory_stats(device):
    """`tf.config.experimental.reset_memory_stats`: nothing to reset on the CPU (TF's
    behaviour); any other device does not exist here."""
    _check_memory_device(device, "reset_memory_stats")


def _enable_op_determinism():
    """`tf.config.experimental.enable_op_determinism`: numpyflow's kernels give the same
    results on every run already, so this only records that determinism was asked for
    (read back by `is_op_determinism_enabled`)."""
    _settings.op_determinism = True


def _disable_op_determinism():
    """`tf.config.experimental.disable_op_determinism` (the kernels stay deterministic)."""
    _settings.op_determinism = False


def _is_op_determinism_enabled():
    """Whether `enable_op_determinism()` was called (and not undone)."""
    return _settings.op_determinism


def _enable_tensor_float_32_execution(enabled):
    """`tf.config.experimental.enable_tensor_float_32_execution`: TensorFloat-32 is a GPU
    matmul precision; numpyflow's float32 products are full float32 whatever this says."""
    _settings.tensor_float_32 = bool(enabled)


def _tensor_float_32_execution_enabled():
    """The TensorFloat-32 setting (True by default, as in TF)."""
    return _settings.tensor_float_32


experimental = _types.ModuleType("numpyflow.config.experimental",
                                 "`tf.config.experimental`: device and runtime settings.")
experimental.set_memory_growth = _set_memory_growth
experimental.get_memory_growth = _get_memory_growth
experimental.get_device_details = _get_device_details
experimental.get_memory_info = _get_memory_info
experimental.reset_memory_stats = _reset_memory_stats
experimental.enable_op_determinism = _enable_op_determinism
experimental.disable_op_determinism = _disable_op_determinism
experimental.is_op_determinism_enabled = _is_op_determinism_enabled
experimental.enable_tensor_float_32_execution = _enable_tensor_float_32_execution
experimental.tensor_float_32_execution_enabled = _tensor_float_32_execution_enabled
experimental.list_physical_devices = list_physical_devices
experimental.list_logical_devices = list_logical_devices
experimental.get_visible_devices = get_visible_devices
experimental.set_visible_devices = set_visible_devices
experimental.get_virtual_device_configuration = get_logical_device_configuration
experimental.set_virtual_device_configuration = set_logical_device_configuration
experimental.VirtualDeviceConfiguration = LogicalDeviceConfiguration


# -- tf.config.threading --------------------------------------------------------------------

def _check_thread_count(num_threads, op):
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(f"tf.config.threading.{op}: num_threads must be an integer >= 0 "
                         f"(0 lets the runtime choose). Received: num_threads={num_threads!r}")


def _set_intra_op_parallelism_threads(num_threads):
    """Caps the threads one op may use (`tf.config.threading`): numpyflow's BLAS products
    and batch splits use at most `num_threads` (0: the default, all cores). Unlike TF,
    which refuses the change once ops have run, it may be changed at any time.
    """
    _check_thread_count(num_threads, "set_intra_op_parallelism_threads")
    from numpyflow.backend import blas
    blas.set_thread_limit(num_threads)
    _settings.intra_op_threads = num_threads


def _get_intra_op_parallelism_threads():
    """The intra-op thread setting (0: the runtime chooses)."""
    return _settings.intra_op_threads


def _set_inter_op_parallelism_threads(num_threads):
    """Records how many ops may run side by side; numpyflow runs ops one after another in
    the calling thread, so this changes nothing."""
    _check_thread_count(num_threads, "set_inter_op_parallelism_threads")
    _settings.inter_op_threads = num_threads


def _get_inter_op_parallelism_threads():
    """The inter-op thread setting (0: the runtime chooses)."""
    return _settings.inter_op_threads


threading = _types.ModuleType("numpyflow.config.threading",
                              "`tf.config.threading`: how many threads ops use.")
threading.set_intra_op_parallelism_threads = _set_intra_op_parallelism_threads
threading.get_intra_op_parallelism_threads = _get_intra_op_parallelism_threads
threading.set_inter_op_parallelism_threads = _set_inter_op_parallelism_threads
threading.get_inter_op_parallelism_threads = _get_inter_op_parallelism_threads


# -- tf.config.optimizer --------------------------------------------------------------------

def _set_jit(enabled):
    """Records XLA's auto-clustering setting (numpyflow compiles `tf.function`s into its
    own plans whatever this says). True or "autoclustering" enables, False or "" not."""
    if enabled is True:
        enabled = "autoclustering"
    elif enabled is False:
        enabled = ""
    if enabled not in ("", "autoclustering"):
        raise ValueError(f"tf.config.optimizer.set_jit: expected a bool or 'autoclustering'. "
                         f"Received: {enabled!r}")
    _settings.jit = enabled


def _get_jit():
    """The JIT setting: "autoclustering" after `set_jit(True)`, else ""."""
    return _settings.jit


def _set_experimental_options(options):
    """Records grappler's options (numpyflow has no graph optimizer to tune)."""
    _settings.optimizer_options.update(dict(options))


def _get_experimental_options():
    """The options given to `set_experimental_options`."""
    return dict(_settings.optimizer_options)


optimizer = _types.ModuleType("numpyflow.config.optimizer",
                              "`tf.config.optimizer`: graph optimizer settings.")
optimizer.set_jit = _set_jit
optimizer.get_jit = _get_jit
optimizer.set_experimental_options = _set_experimental_options
optimizer.get_experimental_options = _get_experimental_options
