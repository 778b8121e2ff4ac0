"""`tf.function`, for now running the decorated function eagerly.

TF 2 code decorates training steps with `@tf.function`. numpyflow does not trace graphs
yet, so the decorated function runs op by op, exactly as TensorFlow runs it under
`tf.config.run_functions_eagerly(True)`: same results, same gradients, and Python side
effects happen on every call. When tracing lands (sharing the primitives' gradient
rules), this is where it plugs in.
"""

import functools


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """Decorator accepted wherever TF's is; the function runs eagerly (see module doc).

    >>> import numpyflow as tf
    >>> @tf.function
    ... def double(x):
    ...     return x * 2.
    >>> float(double(tf.constant(3.)))
    6.0
    """
    def decorate(python_function):
        @functools.wraps(python_function)
        def run_eagerly(*args, **kwargs):
            return python_function(*args, **kwargs)
        run_eagerly.python_function = python_function
        run_eagerly.input_signature = input_signature
        return run_eagerly

    return decorate if func is None else decorate(func)
