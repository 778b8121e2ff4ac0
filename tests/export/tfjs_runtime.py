"""Runs exported TF.js models in Node's @tensorflow/tfjs (tests/export/tfjs_predict.mjs):
layers models with tf.loadLayersModel, graph models with tf.loadGraphModel.

`node` missing skips the calling test; `node` present without the npm packages is an error
telling how to install them (`./dev test` runs `npm ci`).
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "export", "tfjs_predict.mjs")
TFJS_PACKAGE = os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs", "package.json")


def require_node():
    """The path of `node`; skips the test when Node.js is not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (`node`) is not installed: the TF.js runtime checks need it.")
    if not os.path.isfile(TFJS_PACKAGE):
        pytest.fail("node_modules/@tensorflow/tfjs is missing: run `./dev test` (it runs "
                    "`npm ci --ignore-scripts`) or `npm ci --ignore-scripts` at the repo root.")
    return node


def predict_in_node(model_dir, inputs, tmp_path, input_names=None):
    """`(outputs, names)`: the model at `model_dir` run in Node by tf.loadLayersModel (names:
    its weights' names) or, for a graph model, tf.loadGraphModel (names: its output names).

    Args:
      model_dir: A directory holding model.json and its shards.
      inputs: A list of NumPy arrays, one per model input.
      tmp_path: A directory for the inputs file.
      input_names: For a graph model: feed the inputs by these signature names.
    """
    node = require_node()
    spec = {"inputs": [{"shape": list(x.shape),
                        "dtype": "int32" if np.issubdtype(x.dtype, np.integer) else "float32",
                        "data": x.ravel().tolist()} for x in inputs]}
    for entry, name in zip(spec["inputs"], input_names or ()):
        entry["name"] = name
    inputs_path = os.path.join(tmp_path, "inputs.json")
    with open(inputs_path, "w") as file:
        json.dump(spec, file)
    result = subprocess.run([node, SCRIPT, os.fspath(model_dir), inputs_path], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"tfjs failed to load or run {model_dir}:\n{result.stderr[-3000:]}")
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    outputs = [np.asarray(o["data"], np.float32).reshape(o["shape"]) for o in reply["outputs"]]
    return outputs, reply["weights"]
