"""The optional libraries of `tf.lite`, imported on first use (never by `import numpyflow`).

Writing a model needs `flatbuffers` and PyPI's `tflite` (the flatc-generated Python of
TFLite's schema): `pip install numpyflow[tflite]`. Running one needs LiteRT
(`ai-edge-litert`): `pip install numpyflow[litert]`.
"""

import importlib


class _Schema:
    """`schema.Tensor` is the module `tflite.Tensor` (the package's own attribute of that
    name is the class, which its `__init__` star-imports over the module)."""

    def __getattr__(self, name):
        return importlib.import_module(f"tflite.{name}")


def _missing(package, extra, purpose):
    return ImportError(f"{purpose} needs the {package!r} package: "
                       f"pip install numpyflow[{extra}]")


def flatbuffers():
    try:
        return importlib.import_module("flatbuffers")
    except ImportError:
        raise _missing("flatbuffers", "tflite", "Writing a TFLite model") from None


def tflite_schema():
    try:
        importlib.import_module("tflite.Model")
    except ImportError:
        raise _missing("tflite", "tflite", "Writing a TFLite model") from None
    return _Schema()


def litert_interpreter():
    """`ai_edge_litert.interpreter`, the LiteRT runtime's Python interpreter."""
    try:
        return importlib.import_module("ai_edge_litert.interpreter")
    except ImportError:
        raise _missing("ai-edge-litert", "litert", "Running a TFLite model (tf.lite.Interpreter)"
                       ) from None
