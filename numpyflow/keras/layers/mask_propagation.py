"""How `Layer.__call__` hands Keras masks from layer to layer (Keras 3's rules).

A mask is a boolean Tensor kept on the tensor it describes, as `tensor._keras_mask`
(shape: the tensor's leading dims, e.g. (batch, timesteps)). When a layer is called:

  * a `call` with a `mask` argument the caller left out gets the inputs' masks (one
    mask, or a list of them for list inputs); a `call` with `<name>_mask` arguments
    (`query_mask` for `query`, ...) gets the mask of each such argument;
  * after `call`, a layer that `supports_masking` sets `compute_mask(inputs, mask)`
    on those outputs that have no mask yet; a layer that does not support masking but
    received a mask warns that downstream layers will not see it.

    >>> import numpyflow as tf
    >>> class HalfMasked(tf.keras.layers.Layer):
    ...     def compute_mask(self, inputs, previous_mask):
    ...         return tf.constant([[True, False]])
    >>> x = HalfMasked()(tf.ones((1, 2, 3)))
    >>> y = tf.keras.layers.Dropout(0.5)(x)   # Supports masking: passes it on.
    >>> y._keras_mask.numpy()
    array([[ True, False]])
"""

import warnings

import numpyflow as tf


def mask_arguments(call_parameters):
    """`((name, position), ...)` for the arguments of `call` that have a `<name>_mask`
    argument beside them; `position` counts `call`'s positional arguments (0: inputs)."""
    names = list(call_parameters)
    positional = [name for name, parameter in call_parameters.items()
                  if parameter.kind in (parameter.POSITIONAL_ONLY,
                                        parameter.POSITIONAL_OR_KEYWORD)]
    return tuple((name, positional.index(name) if name in positional else None)
                 for name in names if f"{name}_mask" in call_parameters)


def masks_of(inputs):
    """The masks of list/tuple inputs as a list (None when none has one), else the mask."""
    if isinstance(inputs, (list, tuple)):
        found = [getattr(x, "_keras_mask", None) for x in inputs]
        return found if any(m is not None for m in found) else None
    return getattr(inputs, "_keras_mask", None)


def call_with_masks(layer, previous_mask, inputs, args, kwargs):
    """`layer.call` with its mask arguments filled in, then the outputs' masks set."""
    if (layer._call_accepts_mask and kwargs.get("mask") is None and previous_mask is not None
            and not any(isinstance(a, tf.Tensor) for a in args)):
        kwargs["mask"] = previous_mask
    for name, position in layer._call_mask_arguments:
        if kwargs.get(f"{name}_mask") is not None:
            continue
        if position == 0:
            value = inputs
        elif position is not None and position <= len(args):
            value = args[position - 1]
        else:
            value = kwargs.get(name)
        mask = masks_of(value)
        if mask is not None:
            kwargs[f"{name}_mask"] = mask
    if kwargs.get("mask") is not None:
        previous_mask = kwargs["mask"]
    outputs = layer._call_collecting_losses(inputs, *args, **kwargs)
    if layer.supports_masking:
        set_output_masks(layer, inputs, outputs, previous_mask)
    elif previous_mask is not None and not _propagates_by_itself(layer):
        warnings.warn(f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an "
                      f"input with a mask attached to it. However, this layer does not "
                      f"support masking and will therefore destroy the mask information. "
                      f"Downstream layers will not see the mask.", stacklevel=3)
    return outputs


def set_output_masks(layer, inputs, outputs, previous_mask):
    """Sets `layer.compute_mask(inputs, previous_mask)` on the outputs without a mask."""
    flat_outputs = _flat(outputs)
    if all(getattr(x, "_keras_mask", None) is not None for x in flat_outputs):
        return
    output_masks = layer.compute_mask(inputs, previous_mask)
    if output_masks is None:
        return
    flat_masks = _flat(output_masks)  # As Keras 3: the i-th mask for the i-th output.
    for tensor, mask in zip(flat_outputs, flat_masks):
        if mask is not None and isinstance(tensor, tf.Tensor) and \
                getattr(tensor, "_keras_mask", None) is None:
            tensor._keras_mask = mask


def _propagates_by_itself(layer):
    """Models: their own layers read and set the masks of the tensors flowing through."""
    return hasattr(layer, "_is_graph_network")


def _flat(structure):
    if isinstance(structure, dict):
        return [x for key in sorted(structure) for x in _flat(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [x for item in structure for x in _flat(item)]
    return [structure]
