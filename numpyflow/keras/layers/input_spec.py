"""`InputSpec`: what a layer accepts (rank, fixed axis sizes), checked on every call."""

import numpyflow as tf


class InputSpec:
    """Constraints on a layer's input.

    Args:
      dtype: Unused; kept for Keras compatibility.
      shape: A full expected shape (None for free dims).
      ndim: The exact rank expected.
      max_ndim: The maximal rank.
      min_ndim: The minimal rank.
      axes: `{axis: size}` of axes whose size is fixed (e.g. `{-1: 784}` once Dense is built).
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self._forget_valid_shape()

    # `check_input` remembers the last input shape that passed, with a copy of `axes` (the
    # one constraint that can be edited in place). Setting any constraint forgets it.
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if not name.startswith("_valid"):
            self._forget_valid_shape()

    def _forget_valid_shape(self):
        self._valid_shape = None
        self._valid_axes = None

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("shape", self.shape), ("ndim", self.ndim),
                                          ("max_ndim", self.max_ndim),
                                          ("min_ndim", self.min_ndim), ("axes", self.axes)) if v]
        return f"InputSpec({', '.join(parts)})"


def _incompatible(layer, index, detail):
    return ValueError(f'Input {index} of layer "{layer.name}" is incompatible with the layer: '
                      f'{detail}')


def check_input(layer, inputs):
    """Raises ValueError naming the layer when `inputs` break its `input_spec`."""
    specs = layer.input_spec
    if type(specs) is InputSpec and isinstance(inputs, tf.Tensor):
        # The common case, on every layer call: one spec, one tensor, and usually the same
        # shape batch after batch. A shape that passed needs no second check.
        shape = tuple(inputs.shape)
        if shape != specs._valid_shape or specs.axes != specs._valid_axes:
            _check_one(layer, 0, specs, shape)
            specs._valid_shape = shape
            specs._valid_axes = dict(specs.axes)
        return
    if not isinstance(specs, (list, tuple)):
        specs, inputs = [specs], [inputs]
    for index, (spec, x) in enumerate(zip(specs, inputs)):
        if spec is not None:
            _check_one(layer, index, spec, tuple(x.shape))


def _check_one(layer, index, spec, shape):
    """Raises ValueError naming the layer when an input of `shape` (a tuple) breaks `spec`."""
    rank = len(shape)
    if spec.ndim is not None and rank != spec.ndim:
        raise _incompatible(layer, index, f"expected ndim={spec.ndim}, found ndim={rank}. "
                            f"Full shape received: {shape}")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise _incompatible(layer, index, f"expected max_ndim={spec.max_ndim}, found "
                            f"ndim={rank}. Full shape received: {shape}")
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise _incompatible(layer, index, f"expected min_ndim={spec.min_ndim}, found "
                            f"ndim={rank}. Full shape received: {shape}")
    for axis, size in spec.axes.items():
        if size is not None and (axis >= rank or axis < -rank or shape[axis] != size):
            raise _incompatible(layer, index, f"expected axis {axis} of input shape to have "
                                f"value {size}, but received input with shape {shape}")
    if spec.shape is not None:
        for expected, got in zip(spec.shape, shape):
            if expected is not None and got is not None and expected != got:
                raise _incompatible(layer, index, f"expected shape={spec.shape}, found "
                                    f"shape={shape}")
