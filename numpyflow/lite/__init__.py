"""`tf.lite`: convert models to TFLite (LiteRT) flatbuffers and run them.

`TFLiteConverter` writes `.tflite` files (`pip install numpyflow[tflite]`: flatbuffers and
the TFLite schema code); `Interpreter` runs them on LiteRT (`pip install
numpyflow[litert]`). Neither library is imported until used.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((4,), name="pixels"),
    ...                              tf.keras.layers.Dense(2)])
    >>> tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    >>> tf.lite.Interpreter(model_content=tflite_model).get_signature_list()
    {'serving_default': {'inputs': ['pixels'], 'outputs': ['output_0']}}
"""

from numpyflow.lite.converter import (  # noqa: F401
    Optimize, OpsSet, RepresentativeDataset, TargetSpec, TFLiteConverter, export_tflite)
from numpyflow.lite.interpreter import Interpreter  # noqa: F401

__all__ = ["Interpreter", "Optimize", "OpsSet", "RepresentativeDataset", "TargetSpec",
           "TFLiteConverter", "export_tflite"]
