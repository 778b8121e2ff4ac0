"""The trace being recorded right now, if any (see `tracing.py`).

A module of its own so that tensor.py, variable.py and primitive.py can test it on their
hot paths (one attribute read) without importing the tracer, which imports them.
"""

import threading

# The active `tracing.Trace`, or None. Set only by `tracing.Trace.recording()`.
current = None

# Held while a trace records: one trace at a time in the process. Primitives running in
# other threads meanwhile still report to `current`, which ignores them.
lock = threading.Lock()
