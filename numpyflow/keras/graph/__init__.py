"""The symbolic graph behind functional models: `KerasTensor`s joined by `Node`s.

Calling a layer on `KerasTensor`s (from `keras.Input`) computes nothing: it records a
`Node` (the layer, its call arguments, its output KerasTensors) and returns the outputs.
`models/functional.py` walks these nodes to run a model.
"""
