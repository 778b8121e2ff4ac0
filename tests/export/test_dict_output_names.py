"""Review: a model that returns a dict exports each key on its own output (every format
reads `trace_for_export`'s names). The flattened outputs are in sorted-key order, a Keras
model's `output_names` in insertion order: keys given unsorted used to swap."""

import numpy as np

import numpyflow as tf
from numpyflow.export.model_graph import trace_for_export

layers = tf.keras.layers


def test_dict_output_names_follow_their_values():
    x = tf.keras.Input((3,), name="x")
    model = tf.keras.Model(x, {"score": layers.Dense(1)(x), "embedding": layers.Dense(2)(x),
                               "middle": layers.Dense(4)(x)})
    exported = trace_for_export(model)
    widths = {name: atom.shape[-1] for name, atom in exported.outputs}
    assert widths == {"score": 1, "embedding": 2, "middle": 4}
    ours = model(np.ones((2, 3), np.float32))
    assert {key: value.shape[-1] for key, value in ours.items()} == widths
