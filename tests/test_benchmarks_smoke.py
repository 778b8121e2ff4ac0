"""benchmarks/run.py still runs: its numpyflow and NumPy parts, quickest mode, small data.

TensorFlow and PyTorch are not needed (nor used): only --frameworks numpyflow,numpy run.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

from numpyflow.keras.datasets import fashion_mnist

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_benchmark_suite_runs_numpyflow_parts(tmp_path):
    report, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
               "--frameworks", "numpyflow,numpy", "--limit", "256", "--budget", "0.05",
               "--output", str(report), "--json", str(raw)]
    real = all(os.path.isfile(os.path.join(fashion_mnist.DEBIAN_DIR, name))
               for name in fashion_mnist.FILES)
    if not real:
        command.append("--synthetic")  # Never try a download from a test.
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout

    results = json.loads(raw.read_text())["results"]
    expected = {
        "mlp": {"numpyflow": ["mlp"], "numpy": ["mlp"]},
        "lenet32": {"numpyflow": ["lenet32"]},
        "lenet32_functional": {"numpyflow": ["lenet32_functional"]},
        "lenet128": {"numpyflow": ["lenet128"]},
        "cifar_cnn": {"numpyflow": ["cifar_cnn"]},
        "mlp_dataset": {"numpyflow": ["mlp_dataset"]},
        "pipeline": {"numpyflow": ["pipeline"]},
        "inference": {"numpyflow": ["call_us", "predict1_us", "predict_many_s"]},
        "import": {"numpyflow": ["import_s", "import_rss_mb"],
                   "numpy": ["import_s", "import_rss_mb"]},
    }
    for workload, frameworks in expected.items():
        for framework, keys in frameworks.items():
            metrics = results[workload][framework]["metrics"]
            for key in keys:
                assert metrics[key] and all(v > 0 for v in metrics[key]), (workload, key)
        assert set(results[workload]) == set(frameworks)  # No TF/torch child was started.

    text = report.read_text()
    # A row's label gets " *" when a round began on a loaded machine: match either.
    for needle in ("## Machine", "OPENBLAS_CORETYPE=", "| MLP, SGD, b32, 256 samples",
                   "| LeNet-5 functional, Adam, b32, 256 samples",
                   "| MLP model(x), 1 sample", "## Targets (issues #4",
                   "| MLP from a Dataset, SGD, b32, 256 samples",
                   "| PNG pipeline, 256 files, b32",
                   "| CIFAR-shaped CNN+BN, Adam, b64, 256 samples",
                   "| #12 | image pipeline >= 1.0 x TF's throughput | - | n/a (not measured) |",
                   "| #17 | MLP epoch <= 1.1 x NumPy loop |",
                   "| #17 | import numpyflow <= 0.15 s |",
                   "| #17 | RSS after import numpyflow <= 30 MB |",
                   "| #17 | CIFAR-shaped CNN epoch <= 1.0 x PyTorch | - | n/a (not measured) |",
                   "## Threads used", "## LeNet-5's measured floor (benchmarks/conv_floor.py)",
                   "x the one-core floor"):
        assert needle in text, needle
    # Each numpyflow child says which BLAS thread counts its policy picked.
    for workload in ("mlp", "lenet32", "lenet128", "cifar_cnn"):
        assert results[workload]["numpyflow"]["info"]["threads"].startswith("BLAS "), workload
    assert results["mlp"]["numpy"]["info"]["threads"].startswith("BLAS ")
    mlp_threads = [results["mlp"][f]["info"]["threads"] for f in ("numpyflow", "numpy")]
    assert "| MLP, SGD, b32, 256 samples | {} | {} |".format(*mlp_threads) in text
    # Every round's load was recorded, one entry per round.
    loads = json.loads(raw.read_text())["round_loads"]
    assert len(loads["lenet32"]) == 1 and loads["lenet32"][0]["load1"] is not None
    # numpyflow's functional LeNet-5 is checked against its Sequential one (the verdict on
    # 256 samples on a busy machine means nothing; only that the check was measured).
    functional = next(line for line in text.splitlines() if line.startswith(
        "| functional API | LeNet-5 functional epoch b32 <= 1.10 x Sequential |"))
    assert "n/a" not in functional, functional
    from_dataset = next(line for line in text.splitlines() if line.startswith(
        "| #12 | MLP epoch from a Dataset <= 1.15 x from arrays |"))
    assert "x per round" in from_dataset, from_dataset
    # One pass over 256 PNG files (written once, read by the pipeline child), in batches of 32.
    assert results["pipeline"]["numpyflow"]["info"]["images"] == 256
    assert "MLP, SGD, b32, 256 samples" in done.stdout  # The table is printed too.


def test_functional_lenet_rounds_alternate_with_sequential_ones():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert run.workload_groups(["mlp", "lenet32_functional", "import", "lenet32"]) == [
        ["mlp"], ["lenet32_functional", "lenet32"], ["import"]]
    # Alone, the functional workload runs on its own (its check then reads n/a).
    assert run.workload_groups(["lenet32_functional"]) == [["lenet32_functional"]]
    assert run.rotated(["lenet32", "lenet32_functional"], 1) == ["lenet32_functional", "lenet32"]


def load_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    return run


def test_dataset_mlp_rounds_alternate_with_array_ones():
    run = load_run()
    assert run.workload_groups(["mlp_dataset", "pipeline", "mlp", "lenet32"]) == [
        ["mlp_dataset", "mlp"], ["pipeline"], ["lenet32"]]


def verdict(checks, prefix):
    """(description, measured, verdict) of the target whose description starts so."""
    return next(check[1:] for check in checks if check[1].startswith(prefix))


def test_pipeline_target_is_higher_is_better():
    run = load_run()

    def results(nf, tf):
        return {"pipeline": {"numpyflow": {"metrics": {"pipeline": [nf]}},
                             "tensorflow": {"metrics": {"pipeline": [tf]}}}}
    _, measured, faster = verdict(run.targets(results(3000.0, 1500.0)), "image pipeline")
    assert faster == "PASS" and measured.startswith("2.00x"), measured
    _, measured, slower = verdict(run.targets(results(1000.0, 4000.0)), "image pipeline")
    assert slower.startswith("FAIL (4.00x short"), slower
    # The table's ratio column is numpyflow / TF as for every row; its unit says the direction.
    header, lines = run.build_table(results(3000.0, 1500.0), run.table_rows(2000, 2000),
                                    ["numpyflow", "tensorflow"])
    assert lines == [["PNG pipeline, 2,000 files, b32", "img/s", "3,000", "1,500", "2.00"]]


def test_dataset_target_is_the_median_of_per_round_ratios():
    run = load_run()
    results = {"mlp": {"numpyflow": {"metrics": {"mlp": [1.0, 2.0, 1.0]}}},
               "mlp_dataset": {"numpyflow": {"metrics": {"mlp_dataset": [1.1, 2.2, 2.0]}}}}
    _, measured, verdict_text = verdict(run.targets(results), "MLP epoch from a Dataset")
    # Per round: 1.1, 1.1, 2.0 -> 1.10 (the ratio of medians, 2.0 / 1.0, would fail).
    assert measured.startswith("1.10x per round") and verdict_text == "PASS", measured
    results["mlp_dataset"]["numpyflow"]["metrics"]["mlp_dataset"] = [1.3, 2.6, 1.3]
    assert verdict(run.targets(results), "MLP epoch from a Dataset")[2].startswith("FAIL")
