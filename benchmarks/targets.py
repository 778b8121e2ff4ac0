"""The issues' speed targets, checked on one run's results (benchmarks/run.py's report).

Each check reads medians from the run's results and gives (issue, description, measured
text, verdict), e.g. ("#17", "MLP epoch <= 0.5 x PyTorch", "0.65x (0.556 s vs 0.855 s)",
"FAIL (1.30x over the target)").
"""

from benchmarks.report import fmt, median_of, paired_ratio, ratio
from benchmarks.suite import (CIFAR_VS_TORCH_LIMIT, DATASET_VS_ARRAYS_LIMIT,
                              DISTRIBUTED_EFFICIENCY_LIMIT, DISTRIBUTED_VS_DDP_LIMIT,
                              FUNCTIONAL_VS_SEQUENTIAL_LIMIT, IMPORT_RSS_MB_LIMIT,
                              IMPORT_S_LIMIT, LABELS, LENET_VS_TF_LIMIT, LENET_VS_TORCH_LIMIT,
                              MLP_VS_NUMPY_LIMIT, MLP_VS_TORCH_LIMIT, PIPELINE_VS_TF_LIMIT,
                              PREDICT_SAMPLES, PREDICT_VS_TORCH_LIMIT)

TARGETS_TITLE = "Targets"
# Where each target comes from: the first speed issue (#4; what #17 made stricter is
# replaced by #17's), the functional API's issue, tf.data (#12), the RNN issue (#14),
# data-parallel training (#16) and speed, round two (#17).
TARGET_ISSUES = "#4, functional API, #12, #14, #16, #17"


def targets(results):
    """The issues' targets: (issue, description, measured text, verdict)."""
    def value(workload, framework, key):
        return median_of(results.get(workload, {}), framework, key)

    def check_ratio(description, workload, peer, limit, key=None):
        key = key or workload
        nf, other = value(workload, "numpyflow", key), value(workload, peer, key)
        r = ratio(nf, other)
        if r is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if r <= limit else f"FAIL ({r / limit:.2f}x over the target)"
        return description, f"{r:.2f}x ({nf:.3f} s vs {other:.3f} s)", verdict

    def check_best(description, workload, peers, limit):
        """numpyflow's epoch over the fastest of `peers` (e.g. TF with and without XLA)."""
        nf = value(workload, "numpyflow", workload)
        timed = {p: value(workload, p, workload) for p in peers}
        timed = {p: v for p, v in timed.items() if v is not None}
        if nf is None or not timed:
            return description, "-", "n/a (not measured)"
        best = min(timed, key=timed.get)
        r = nf / timed[best]
        verdict = "PASS" if r <= limit else f"FAIL ({r / limit:.2f}x over the target)"
        missing = [LABELS[p] for p in peers if p not in timed]
        note = f"; {', '.join(missing)} not measured" if missing else ""
        return (description, f"{r:.2f}x ({nf:.3f} s vs {LABELS[best]} {timed[best]:.3f} s"
                             f"{note})", verdict)

    def check_paired(description, workload, baseline, limit):
        """numpyflow against itself: `workload`'s epoch over `baseline`'s (e.g. functional
        LeNet-5 over Sequential, MLP from a Dataset over MLP from arrays).

        Their rounds alternate, so each round's pair ran under the same load; the median of
        the per-round ratios is what is checked (the ratio of the two medians would pair
        epochs from different moments: the machine's load moves epochs by 20% and more)."""
        mine, base = value(workload, "numpyflow", workload), value(baseline, "numpyflow", baseline)
        r = paired_ratio(results.get(workload, {}), results.get(baseline, {}),
                         "numpyflow", workload, baseline)
        if r is None:
            return description, "-", f"n/a (needs numpyflow in {baseline} and {workload})"
        verdict = "PASS" if r <= limit else f"FAIL ({r / limit:.2f}x over the target)"
        return (description, f"{r:.2f}x per round (medians {mine:.3f} s vs {base:.3f} s)",
                verdict)

    def check_throughput(description, workload, peer, limit):
        """numpyflow's rate over the peer's: higher is better, so it must be >= `limit`."""
        nf, other = value(workload, "numpyflow", workload), value(workload, peer, workload)
        r = ratio(nf, other)
        if r is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if r >= limit else f"FAIL ({limit / r:.2f}x short of the target)"
        return description, f"{r:.2f}x ({nf:,.0f} vs {other:,.0f} img/s)", verdict

    def check_distributed(description, key, peer, limit):
        """Data-parallel LeNet-5 (higher is better): numpyflow's scaling efficiency, or its
        2-rank samples/s over the peer's; reports each side's threads per process."""
        per = results.get("distributed_lenet", {})
        nf = value("distributed_lenet", "numpyflow", key)
        other = value("distributed_lenet", peer, key) if peer else None
        measured = nf if peer is None else ratio(nf, other)
        if measured is None:
            return description, "-", "n/a (not measured)"

        def threads(framework):
            info = per.get(framework, {}).get("info", {})
            return f"{info.get('threads_1rank', '?')}/{info.get('threads_per_rank_2ranks', '?')}"
        text = (f"{measured:.2f}" if peer is None else
                f"{measured:.2f}x ({nf:,.0f} vs {other:,.0f} samples/s)")
        text += f"; threads per process (1/2 ranks): numpyflow {threads('numpyflow')}"
        if peer:
            text += f", {LABELS[peer]} {threads(peer)}"
        verdict = "PASS" if measured >= limit else f"FAIL ({limit / measured:.2f}x short)"
        return description, text, verdict

    def check_value(description, workload, key, limit, unit):
        v = value(workload, "numpyflow", key)
        if v is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if v <= limit else f"FAIL ({v / limit:.1f}x over the target)"
        return description, f"{fmt(v, unit)} {unit}", verdict

    tf_both = ("tensorflow", "tensorflow_xla")
    checks = [
        ("#4", check_ratio("MLP epoch <= 0.35 x TF/Keras", "mlp", "tensorflow", 0.35)),
        ("#4", check_value("predict(x), 1 sample <= 100 µs", "inference", "predict1_us", 100,
                           "µs")),
        ("#4", check_value("model(x), 1 sample <= 50 µs", "inference", "call_us", 50, "µs")),
        ("functional API", check_paired(
            f"LeNet-5 functional epoch b32 <= {FUNCTIONAL_VS_SEQUENTIAL_LIMIT:.2f} x "
            "Sequential", "lenet32_functional", "lenet32", FUNCTIONAL_VS_SEQUENTIAL_LIMIT)),
        ("#12", check_paired(f"MLP epoch from a Dataset <= {DATASET_VS_ARRAYS_LIMIT:.2f} x "
                             "from arrays", "mlp_dataset", "mlp", DATASET_VS_ARRAYS_LIMIT)),
        ("#12", check_throughput(f"image pipeline >= {PIPELINE_VS_TF_LIMIT:.1f} x TF's "
                                 "throughput", "pipeline", "tensorflow", PIPELINE_VS_TF_LIMIT)),
        ("#14", check_ratio("LSTM(128) epoch b32 <= 0.5 x TF/Keras", "lstm32", "tensorflow",
                            0.5)),
        ("#14", check_ratio("LSTM(128) epoch b32 <= 1.0 x PyTorch", "lstm32", "torch", 1.0)),
        ("#16", check_distributed(f"data-parallel LeNet-5 scaling efficiency >= "
                                  f"{DISTRIBUTED_EFFICIENCY_LIMIT:.2f}", "dist_efficiency",
                                  None, DISTRIBUTED_EFFICIENCY_LIMIT)),
        ("#16", check_distributed(f"data-parallel LeNet-5, 2 ranks >= "
                                  f"{DISTRIBUTED_VS_DDP_LIMIT:.1f} x PyTorch DDP's samples/s",
                                  "dist_2rank", "torch", DISTRIBUTED_VS_DDP_LIMIT)),
    ]
    for batch, workload in ((32, "lenet32"), (128, "lenet128")):
        checks += [
            ("#17", check_ratio(f"LeNet-5 epoch b{batch} <= {LENET_VS_TORCH_LIMIT} x PyTorch "
                                "(default threads)", workload, "torch", LENET_VS_TORCH_LIMIT)),
            ("#17", check_best(f"LeNet-5 epoch b{batch} <= {LENET_VS_TF_LIMIT} x TF/Keras's "
                               "best (with or without XLA)", workload, tf_both,
                               LENET_VS_TF_LIMIT)),
        ]
    checks += [
        ("#17", check_ratio(f"MLP epoch <= {MLP_VS_TORCH_LIMIT} x PyTorch", "mlp", "torch",
                            MLP_VS_TORCH_LIMIT)),
        ("#17", check_ratio(f"MLP epoch <= {MLP_VS_NUMPY_LIMIT} x NumPy loop", "mlp", "numpy",
                            MLP_VS_NUMPY_LIMIT)),
        ("#17", check_ratio(f"predict on {PREDICT_SAMPLES:,} samples <= "
                            f"{PREDICT_VS_TORCH_LIMIT} x PyTorch", "inference", "torch",
                            PREDICT_VS_TORCH_LIMIT, key="predict_many_s")),
        ("#17", check_ratio(f"CIFAR-shaped CNN epoch <= {CIFAR_VS_TORCH_LIMIT} x PyTorch",
                            "cifar_cnn", "torch", CIFAR_VS_TORCH_LIMIT)),
        ("#17", check_value(f"import numpyflow <= {IMPORT_S_LIMIT} s", "import", "import_s",
                            IMPORT_S_LIMIT, "s")),
        ("#17", check_value(f"RSS after import numpyflow <= {IMPORT_RSS_MB_LIMIT} MB", "import",
                            "import_rss_mb", IMPORT_RSS_MB_LIMIT, "MB")),
    ]
    return [(issue,) + check for issue, check in checks]
