"""`tf.compat.v1.layers`: the TF 1 functional layers Estimator model_fns were written with.

Each call makes the Keras layer and applies it; inside an Estimator the Variables it
creates are shared between the model_fn's calls by name (`dense/kernel`, `dense_1/...`),
as TF 1's variable scopes named them.

    >>> import numpyflow as tf
    >>> tf.compat.v1.layers.dense(tf.ones((2, 3)), 4).shape
    TensorShape([2, 4])
"""


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """`Dense(units, ...)(inputs)`; `kernel_initializer=None` is Glorot uniform."""
    if reuse:
        raise NotImplementedError("tf.compat.v1.layers.dense: `reuse` is not supported (an "
                                  "Estimator shares a model_fn's variables between calls by "
                                  "itself).")
    from numpyflow.keras import layers
    layer = layers.Dense(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer or "glorot_uniform",
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         trainable=trainable, name=name)
    return layer(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """`Dropout(rate)(inputs, training=training)` (off unless `training`)."""
    from numpyflow.keras import layers
    return layers.Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)(
        inputs, training=bool(training))
