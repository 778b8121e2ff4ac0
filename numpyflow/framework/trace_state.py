"""The trace being recorded right now, if any (see `tracing.py`).

A module of its own so that tensor.py, variable.py and primitive.py can test it on their
hot paths (one attribute read) without importing the tracer, which imports them.
"""

# The active `tracing.Trace`, or None. Set only by `tracing.Trace.recording()`.
current = None
