"""`tf.lite.Interpreter`: runs TFLite models on LiteRT, the runtime phones ship.

Every call goes to `ai_edge_litert.interpreter.Interpreter` (`pip install
numpyflow[litert]`), so what a test checks here is what LiteRT computes on a device.

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> interpreter = tf.lite.Interpreter(
    ...     model_content=tf.lite.TFLiteConverter.from_keras_model(model).convert())
    >>> interpreter.allocate_tensors()
    >>> detail = interpreter.get_input_details()[0]
    >>> detail["shape"].tolist(), detail["shape_signature"].tolist()
    ([1, 3], [-1, 3])
    >>> interpreter.set_tensor(detail["index"], np.ones((1, 3), np.float32))
    >>> interpreter.invoke()
    >>> interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).shape
    (1, 2)
"""

import os

import numpy as np

from numpyflow.lite import _deps


class Interpreter:
    """Loads a TFLite model and runs it (TF's `tf.lite.Interpreter` API, on LiteRT).

    Args:
      model_path: Path of a .tflite file.
      model_content: The model's bytes (what `TFLiteConverter.convert()` returns).
      experimental_delegates: LiteRT delegates (`load_delegate(...)`), passed on.
      num_threads: Threads for the CPU kernels (None or -1: LiteRT's default).
      experimental_op_resolver_type, experimental_preserve_all_tensors: Passed on to LiteRT
        (`preserve_all_tensors` keeps intermediate tensors readable with `get_tensor`).

    Raises:
      ValueError: when neither or both of `model_path` and `model_content` are given, or
        LiteRT cannot read the model.
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None,
                 num_threads=None, experimental_op_resolver_type=None,
                 experimental_preserve_all_tensors=False):
        if (model_path is None) == (model_content is None):
            raise ValueError("Interpreter needs exactly one of model_path and model_content; "
                             f"received model_path={model_path!r} and "
                             f"model_content={'<bytes>' if model_content is not None else None}.")
        if model_path is not None:
            model_path = os.fspath(model_path)
            if not os.path.isfile(model_path):
                raise ValueError(f"Could not open {model_path!r}: no such file.")
        if model_content is not None and not isinstance(model_content, (bytes, bytearray)):
            raise TypeError(f"model_content must be bytes (TFLiteConverter.convert()'s result); "
                            f"received {type(model_content).__name__}.")
        if num_threads is not None and (not isinstance(num_threads, int)
                                        or (num_threads < 1 and num_threads != -1)):
            raise ValueError(f"num_threads must be an int >= 1, or -1 (LiteRT's default); "
                             f"received {num_threads!r}.")
        if num_threads == -1:
            num_threads = None   # TF's -1: the runtime chooses (LiteRT itself refuses -1).
        litert = _deps.litert_interpreter()
        kwargs = {"experimental_preserve_all_tensors": bool(experimental_preserve_all_tensors)}
        if experimental_op_resolver_type is not None:
            name = getattr(experimental_op_resolver_type, "name",
                           str(experimental_op_resolver_type))
            known = list(litert.OpResolverType.__members__)
            if name not in known:
                raise ValueError(f"experimental_op_resolver_type must be one of {known} (a name "
                                 f"or an OpResolverType); received "
                                 f"{experimental_op_resolver_type!r}.")
            kwargs["experimental_op_resolver_type"] = litert.OpResolverType[name]
        self._interpreter = litert.Interpreter(
            model_path=model_path,
            model_content=bytes(model_content) if model_content is not None else None,
            experimental_delegates=experimental_delegates, num_threads=num_threads, **kwargs)

    def allocate_tensors(self):
        """Plans memory for every tensor; call it first, and after `resize_tensor_input`."""
        self._interpreter.allocate_tensors()

    def invoke(self):
        """Runs the model on the tensors set with `set_tensor`."""
        self._interpreter.invoke()

    def get_input_details(self):
        """One dict per input: name, index, shape, shape_signature, dtype, quantization,
        quantization_parameters, sparsity_parameters (TF's keys)."""
        return self._interpreter.get_input_details()

    def get_output_details(self):
        """One dict per output, with the keys of `get_input_details`."""
        return self._interpreter.get_output_details()

    def get_tensor_details(self):
        """The details of every tensor of the model."""
        return self._interpreter.get_tensor_details()

    def set_tensor(self, tensor_index, value):
        """Copies `value` (an array or numpyflow Tensor) into the input `tensor_index`."""
        self._interpreter.set_tensor(tensor_index, _as_array(value))

    def get_tensor(self, tensor_index, subgraph_index=0):
        """A copy of the tensor `tensor_index` (an output after `invoke`)."""
        return self._interpreter.get_tensor(tensor_index, subgraph_index)

    def tensor(self, tensor_index):
        """A function returning a NumPy view of the tensor's current buffer (no copy)."""
        return self._interpreter.tensor(tensor_index)

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        """Changes an input's shape (the batch, say); call `allocate_tensors` after.

        With `strict=True` only the dimensions that are -1 in `shape_signature` may change.
        """
        self._interpreter.resize_tensor_input(input_index, np.asarray(tensor_size, np.int32),
                                              strict=strict)

    def get_signature_list(self):
        """{signature key: {"inputs": [names], "outputs": [names]}}."""
        return self._interpreter.get_signature_list()

    def get_signature_runner(self, signature_key=None):
        """A callable running one signature with keyword inputs, returning a dict of outputs:
        `runner(input_layer=x)["output_0"]`."""
        return self._interpreter.get_signature_runner(signature_key)

    def reset_all_variables(self):
        self._interpreter.reset_all_variables()


def _as_array(value):
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)
