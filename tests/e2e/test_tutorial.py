"""The seed tutorial, run as a script on Fashion-MNIST: its printout and its accuracy."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.keras.test_model import TUTORIAL_SUMMARY as SUMMARY

ROOT = pathlib.Path(__file__).resolve().parents[2]

EPOCH_LINE = re.compile(
    r"^1875/1875 \[==============================\] - \d+s \d+(ms|us)/step - "
    r"loss: (\d\.\d{4}) - accuracy: (\d\.\d{4}) - val_loss: (\d\.\d{4}) - "
    r"val_accuracy: (\d\.\d{4})$")


@pytest.mark.realdata
def test_tutorial_runs_as_printed_and_reaches_tf_accuracy():
    """TF 2.21 / Keras 3 reached val_accuracy 0.859 with these settings on this data.

    The final val_accuracy depends on the initial weights and shuffling: with global seeds
    1-4 we measured 0.8566, 0.8567, 0.8554 and 0.8565 (an unseeded run gave 0.8501), so
    the test fixes seed 1 to be deterministic.
    """
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "tutorial.py"),
                          "--dataset", "fashion_mnist", "--seed", "1"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith(SUMMARY), out[:2000]
    lines = out[len(SUMMARY):].splitlines()
    assert lines[0::2] == [f"Epoch {i}/10" for i in range(1, 11)], lines
    epochs = [EPOCH_LINE.match(line) for line in lines[1::2]]
    assert all(epochs), lines
    assert len(lines) == 20
    losses = [float(m.group(2)) for m in epochs]
    assert losses[-1] < losses[0]
    assert float(epochs[-1].group(5)) >= 0.85
    # The tutorial builds for (None, 784) and fits on 28x28 images: warned once, as TF 2.x did.
    assert run.stderr.count("but it was called on an input with incompatible shape") == 1
