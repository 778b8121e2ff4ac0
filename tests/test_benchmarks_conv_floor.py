"""benchmarks/conv_floor.py: LeNet-5's geometry, its bookkeeping and its report section."""

import math

import numpy as np
import pytest

from benchmarks import conv_floor


def test_parameter_count_matches_numpyflows_lenet():
    import numpyflow as tf
    from examples.lenet5 import build_lenet5
    model = build_lenet5(tf, input_shape=(28, 28, 1))
    assert conv_floor.parameters() == model.count_params()


@pytest.mark.parametrize("n", [1, 32])
def test_useful_gemms_carry_exactly_the_layers_flops(n):
    for layer in conv_floor.lenet():
        forward, backward = layer.flops(n)
        products = [2 * a.shape[0] * a.shape[1] * b.shape[1]
                    for _, a, b in layer.gemms(n, junk=False)]
        assert sum(products) == forward + backward, layer.name
        if products:  # The forward product is one third (one half for the first layer).
            assert products[0] == forward, layer.name


def test_conv_gemm_shapes_are_numpyflows_column_matrix():
    conv_ops = pytest.importorskip("numpyflow.ops.conv_ops")
    layout_class = getattr(conv_ops, "_Layout", None)
    if layout_class is None:
        pytest.skip("numpyflow's im2col layout moved: update Conv.rows to the new layout")
    n = 4
    for layer in (l for l in conv_floor.lenet() if isinstance(l, conv_floor.Conv)):
        pads = ((layer.pad, layer.pad), (layer.pad, layer.pad))
        layout = layout_class((n, layer.h, layer.w, layer.c), (layer.k, layer.k, layer.c, layer.o),
                              (1, 1), (1, 1), pads)
        x = np.zeros((n, layer.h, layer.w, layer.c), np.float32)
        columns = layout.columns(x)
        _, forward_a, forward_b = layer.gemms(n)[0]
        assert columns.T.shape == forward_a.shape and forward_b.shape == (layer.depth, layer.o)
        # The im2col copy's bytes: the column matrix written, and as many values read.
        moved = dict(layer.moves(n))["im2col copy (read view, write columns)"]
        assert moved == 2 * columns.nbytes


def fake_results(n, gemm_s, move_s, step_s):
    layers = [{"name": "conv", "flops": (2_000_000, 4_000_000),
               "gemms": [("forward", (10, 20, 30), gemm_s)],
               "moves": [("copy", 1_000_000, move_s)], "useful_gemm_s": gemm_s}]
    return {n: {"layers": layers, "step_s": step_s, "fast_step_s": step_s / 2, "steps": 100,
                "layer_s": {"conv": 0.004}}}


def test_section_scales_the_step_floor_to_an_epoch():
    text = conv_floor.section(fake_results(32, 0.001, 0.0005, 0.003), peak=100.0, pinned=True,
                              epoch_measured={32: 9.0})
    steps = math.ceil(conv_floor.EPOCH_SAMPLES / 32)
    floor_epoch = 0.0015 * steps
    assert f"per epoch: **{floor_epoch:.2f} s**" in text
    assert f"**{0.003 / 0.0015:.1f}x the one-core floor**" in text
    assert f"fastest tenth of steps: 1.500 ms = {0.0015 / 0.0015:.1f}x" in text
    assert f"9.00 s = {9.0 / floor_epoch:.1f}x the floor" in text
    assert "one OpenBLAS thread" in text
    # Eager conv 4 ms against its floor of 1.5 ms; the 3 ms step is 1 ms under its layers.
    assert "exceed their floor most: conv +2.500 ms" in text
    assert "eager times: -1.000 ms" in text
    assert text.startswith(conv_floor.TITLE) and text.endswith(conv_floor.END)


def test_write_section_replaces_its_own_section_only(tmp_path):
    report = tmp_path / "RESULTS.md"
    report.write_text("# numpyflow benchmarks\n\nbefore\n")
    first = conv_floor.section(fake_results(32, 0.001, 0.001, 0.004), 100.0, True)
    conv_floor.write_section(report, first)
    assert report.read_text() == "# numpyflow benchmarks\n\nbefore\n\n" + first + "\n"
    report.write_text(report.read_text() + "\n## After\n\nkept\n")
    second = conv_floor.section(fake_results(128, 0.002, 0.001, 0.009), 100.0, False)
    conv_floor.write_section(report, second)
    text = report.read_text()
    assert second in text and first not in text
    assert text.startswith("# numpyflow benchmarks\n\nbefore\n") and text.endswith(
        "## After\n\nkept\n")
    assert text.count(conv_floor.TITLE) == 1
