"""The data-parallel LeNet-5 workload of benchmarks/run.py (issue #16's targets): how a
round's numbers become table rows and verdicts. No benchmark is run here."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_reports_both_rank_counts_efficiency_and_threads(monkeypatch):
    lenet = _load("bench_distributed_lenet", "benchmarks/distributed_lenet.py")
    calls = []

    def fake(ranks, steps, warmup):
        calls.append((ranks, steps, warmup))
        return {"samples_per_s": {1: 1000.0, 2: 1800.0}[ranks], "threads": 3 - ranks}
    monkeypatch.setitem(lenet.RUNNERS, "numpyflow", fake)
    metrics, info = lenet.measure("numpyflow", steps=7, warmup=2)
    assert calls == [(1, 7, 2), (2, 7, 2)]
    assert metrics == {"dist_2rank": [1800.0], "dist_1rank": [1000.0],
                       "dist_efficiency": [0.9]}
    assert info["threads_1rank"] == 2 and info["threads_per_rank_2ranks"] == 1


def _results(nf, torch):
    def one(values, threads):
        one_rank, two_ranks = values
        return {"metrics": {"dist_1rank": [one_rank], "dist_2rank": [two_ranks],
                            "dist_efficiency": [two_ranks / (2 * one_rank)]},
                "info": {"threads_1rank": threads[0], "threads_per_rank_2ranks": threads[1]}}
    return {"distributed_lenet": {"numpyflow": one(nf, (2, 1)), "torch": one(torch, (2, 1))}}


def test_targets_efficiency_and_ddp_ratio():
    run = _load("bench_run", "benchmarks/run.py")
    assert run.WORKLOADS["distributed_lenet"] == ("numpyflow", "torch")
    # Each target is (issue, description, measured, verdict).
    checks = {c[1]: c[2:] for c in run.targets(_results((1000.0, 1800.0), (900.0, 1500.0)))}
    measured, verdict = checks["data-parallel LeNet-5 scaling efficiency >= 0.85"]
    assert measured.startswith("0.90; threads per process (1/2 ranks): numpyflow 2/1")
    assert verdict == "PASS"
    measured, verdict = checks["data-parallel LeNet-5, 2 ranks >= 1.0 x PyTorch DDP's samples/s"]
    assert measured.startswith("1.20x (1,800 vs 1,500 samples/s)") and "PyTorch 2/1" in measured
    assert verdict == "PASS"
    checks = {c[1]: c[2:] for c in run.targets(_results((1000.0, 1600.0), (900.0, 2000.0)))}
    assert checks["data-parallel LeNet-5 scaling efficiency >= 0.85"][1].startswith("FAIL")
    assert checks["data-parallel LeNet-5, 2 ranks >= 1.0 x PyTorch DDP's samples/s"][1] == \
        "FAIL (1.25x short)"


def test_table_rows():
    run = _load("bench_run", "benchmarks/run.py")
    header, lines = run.build_table(_results((1000.0, 1800.0), (900.0, 1500.0)),
                                    run.table_rows(60000, 10000), ["numpyflow", "torch"])
    assert header == ["workload", "unit", "numpyflow", "PyTorch", "nf/PyTorch"]
    assert lines[:2] == [
        ["LeNet-5 data-parallel, b64/replica, 1 process", "samples/s", "1,000", "900", "1.11"],
        ["LeNet-5 data-parallel, b64/replica, 2 processes", "samples/s", "1,800", "1,500",
         "1.20"]]
    assert lines[2][:4] == ["LeNet-5 data-parallel scaling efficiency", "ratio", "0.900",
                            "0.833"]
