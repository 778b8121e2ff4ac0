"""A model's architecture as JSON: `model.to_json()` and `keras.models.model_from_json()`.

The JSON is Keras 3's: `serialize_keras_object(model)` (module, class_name, config,
registered_name, build_config, compile_config), so Keras 3's `model_from_json` reads it.
`model_from_json` also reads what tf.keras 2.x's `to_json()` wrote (`{"class_name", "config",
"keras_version", "backend"}` with Keras 2 layer configs). Weights are not included. Reading
parses with `json.loads` and finds classes only among numpyflow's own, registered ones and
`custom_objects`; no module is imported and no code runs (a Lambda holding bytecode is
refused).

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> clone = tf.keras.models.model_from_json(model.to_json())
    >>> clone.layers[0].units, clone.count_params()
    (2, 8)
"""

import json

from numpyflow.keras.saving import legacy_config, serialization_lib


def model_to_json(model, **kwargs):
    """The model's config as a JSON string (`json.dumps(..., **kwargs)`), as Keras 3 writes it.

    Args:
      model: A Sequential, functional or registered subclassed model.
      **kwargs: Passed to `json.dumps` (`indent=2`, `sort_keys=True`, ...).

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> json.loads(model_to_json(model))["class_name"]
    'Sequential'
    """
    config = serialization_lib.serialize_keras_object(model)
    return json.dumps(config, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from `to_json()`'s string, Keras 3's or tf.keras 2.x's.

    Args:
      json_string: The JSON text.
      custom_objects: Optional `{name: class_or_function}` for custom layers and functions.

    Returns:
      The model; compiled when the JSON holds a `compile_config` (as Keras 3 does).

    Raises:
      ValueError: for text that is not JSON, not a model config, an unknown class, or a
        Lambda layer holding code.

    >>> import numpyflow as tf
    >>> text = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)]).to_json()
    >>> type(model_from_json(text)).__name__
    'Sequential'
    """
    if isinstance(json_string, bytes):
        json_string = json_string.decode("utf-8")
    if not isinstance(json_string, str):
        raise TypeError(f"model_from_json expects a JSON string. Received: {json_string!r} of "
                        f"type {type(json_string).__name__}.")
    try:
        config = legacy_config.decode_legacy_json(json.loads(json_string))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"model_from_json: the string is not valid JSON ({error}). It "
                         f"begins: {json_string[:80]!r}") from None
    config = legacy_config.upgrade_model_config(config, source="the JSON string")
    for key in ("keras_version", "backend"):  # tf.keras 2.x wrote these beside the config.
        config.pop(key, None)
    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects,
                                                      printable_module_name="layer")
