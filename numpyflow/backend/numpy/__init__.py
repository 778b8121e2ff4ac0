"""The NumPy backend's own kernels: special functions (`special`), convolution
(`conv`: im2col/col2im), pooling (`pooling`), the fused recurrences (`recurrence`) and
training-mode batch normalization (`batch_norm`).

`numpyflow/ops/` keeps the primitives (argument checks, forward and gradient rules) and
calls these for the array work, so another array library can later bring its own.
"""
