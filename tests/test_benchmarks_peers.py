"""benchmarks/run.py's peer columns, issue #17's targets, load flags and thread records.

No peer is imported: the report functions are fed result dicts shaped like the children's.
"""

import importlib.util
import os
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    return run


def results(**workloads):
    """{workload: {framework: {"metrics": {workload: samples}}}}, as the children report."""
    return {w: {f: {"metrics": {w: list(v)}} for f, v in per.items()}
            for w, per in workloads.items()}


def check(checks, prefix):
    return next(c for c in checks if c[1].startswith(prefix))


def test_lenet_target_against_tf_takes_the_faster_of_with_and_without_xla():
    run = load_run()
    measured = results(lenet32={"numpyflow": [4.0], "tensorflow": [10.0],
                                "tensorflow_xla": [6.0], "torch": [8.0]})
    issue, _, text, verdict = check(run.targets(measured), "LeNet-5 epoch b32 <= 0.5 x TF")
    # 4 / min(10, 6): XLA is TF's best here, and 0.67 > 0.5 fails.
    assert issue == "#17" and text.startswith("0.67x") and "TF/Keras XLA" in text, text
    assert verdict.startswith("FAIL (1.33x over"), verdict
    measured["lenet32"]["tensorflow"]["metrics"]["lenet32"] = [5.0]  # now TF without XLA
    _, _, text, verdict = check(run.targets(measured), "LeNet-5 epoch b32 <= 0.5 x TF")
    assert text.startswith("0.80x") and "TF/Keras 5.000" in text, text
    _, _, text, verdict = check(run.targets(measured), "LeNet-5 epoch b32 <= 0.8 x PyTorch")
    assert text.startswith("0.50x") and verdict == "PASS", text


def test_best_of_tf_says_when_xla_was_not_measured():
    run = load_run()
    measured = results(lenet128={"numpyflow": [2.0], "tensorflow": [5.0]})
    _, _, text, verdict = check(run.targets(measured), "LeNet-5 epoch b128 <= 0.5 x TF")
    assert text.startswith("0.40x") and "TF/Keras XLA not measured" in text and verdict == "PASS"


def test_issue_17_targets_pass_and_fail_at_their_limits():
    run = load_run()
    measured = results(mlp={"numpyflow": [1.0], "torch": [1.9], "numpy": [0.95]},
                       cifar_cnn={"numpyflow": [3.0], "torch": [2.0]})
    measured["inference"] = {"numpyflow": {"metrics": {"predict_many_s": [0.02]}},
                             "torch": {"metrics": {"predict_many_s": [0.04]}}}
    measured["import"] = {"numpyflow": {"metrics": {"import_s": [0.2],
                                                    "import_rss_mb": [29.0]}}}
    checks = run.targets(measured)
    assert check(checks, "MLP epoch <= 0.5 x PyTorch")[3].startswith("FAIL (1.05x")
    assert check(checks, "MLP epoch <= 1.1 x NumPy")[3] == "PASS"
    assert check(checks, "predict on 10,000 samples <= 1.0 x PyTorch")[2].startswith("0.50x")
    assert check(checks, "CIFAR-shaped CNN epoch <= 1.0 x PyTorch")[3].startswith("FAIL (1.50x")
    assert check(checks, "import numpyflow <= 0.15 s")[3].startswith("FAIL")
    assert check(checks, "RSS after import numpyflow <= 30 MB")[3] == "PASS"


def test_variant_columns_and_empty_cells():
    run = load_run()
    frameworks = ["numpyflow", "tensorflow", "tensorflow_xla", "torch", "torch_1thread"]
    measured = results(lenet32={"numpyflow": [4.0], "tensorflow": [8.0],
                                "tensorflow_xla": [2.0], "torch": [5.0],
                                "torch_1thread": [8.0]})
    measured["inference"] = {
        "numpyflow": {"metrics": {"call_us": [20.0]}},
        "tensorflow_xla": {"metrics": {"predict1_us": [900.0]}},  # no eager model(x)
    }
    header, lines = run.build_table(measured, run.table_rows(60000, 10000), frameworks)
    assert header[2:7] == ["numpyflow", "TF/Keras", "TF/Keras XLA", "PyTorch",
                           "PyTorch 1 thread"]
    assert header[7:] == ["nf/TF", "nf/TF XLA", "nf/PyTorch", "nf/PyTorch 1t"]
    lenet = next(line for line in lines if line[0].startswith("LeNet-5, Adam, b32"))
    assert lenet[2:] == ["4.000", "8.000", "2.000", "5.000", "8.000", "0.50", "2.00", "0.80",
                         "0.50"]
    call = next(line for line in lines if line[0].startswith("MLP model(x)"))
    assert call[4] == ""  # XLA ran, but model(x) is not one of its rows


def test_rows_of_loaded_rounds_are_marked_and_listed():
    run = load_run()
    loads = {"mlp": [{"load1": 0.2, "busy_cores": 0.1}, {"load1": 0.9, "busy_cores": 1.5}],
             "lenet32": [{"load1": 0.4, "busy_cores": 0.0}]}
    assert run.flagged_workloads(loads) == {"mlp"}
    assert run.load_lines(loads) == [
        "mlp: 1 of 2 rounds (round 2: load 0.90, 1.50 cores busy)"]
    measured = results(mlp={"numpyflow": [1.0]}, lenet32={"numpyflow": [4.0]})
    _, lines = run.build_table(measured, run.table_rows(60000, 10000), ["numpyflow"],
                               run.flagged_workloads(loads))
    assert [line[0] for line in lines] == ["MLP, SGD, b32, 1 epoch *",
                                           "LeNet-5, Adam, b32, 1 epoch"]


def test_machine_load_samples_the_load_average_and_busy_cores():
    load = load_run().machine_load(sample_s=0.05)
    assert load["load1"] >= 0 and 0 <= load["busy_cores"] <= 1.01 * os.cpu_count()


def test_warmup_covers_the_final_partial_batch():
    load_run()  # puts the checkout on the path, as for the children
    from benchmarks.children import warmup_size
    assert warmup_size(60000, 128) == 20 * 128 + 96  # 60,000 = 468 x 128 + 96
    assert warmup_size(60000, 32) == 20 * 32
    assert warmup_size(300, 128, batches=5) == 300


def test_threads_table_reads_each_childs_record():
    run = load_run()
    measured = {"lenet32": {"numpyflow": {"info": {"threads": "BLAS 1"}},
                            "torch": {"info": {"threads": "2 (inter-op 2)"}}},
                "distributed_lenet": {"numpyflow": {"info": {"threads_1rank": 2,
                                                             "threads_per_rank_2ranks": 1}}}}
    header, lines = run.threads_table(measured, run.table_rows(60000, 10000),
                                      ["numpyflow", "torch"])
    assert header == ["workload", "numpyflow", "PyTorch"]
    assert lines[0] == ["LeNet-5, Adam, b32, 1 epoch", "BLAS 1", "2 (inter-op 2)"]
    assert lines[1][1] == "2 (1 process), 1 each (2 processes)"


def test_blas_threads_seen_records_the_policy_and_restores_it():
    from benchmarks import threads
    blas = threads.numpyflow_blas()
    original = blas.threads_for
    small = np.ones((8, 8), np.float32)
    big = np.ones((512, 512), np.float32)  # 134M multiply-adds: every core
    with threads.BlasThreadsSeen() as seen:
        blas.matmul(small, small)
    # Other tests may have left numpyflow's kernel pool thread alive: ", N Python threads".
    assert seen.text().split(",")[0] == "BLAS 1" and blas.threads_for is original
    with threads.BlasThreadsSeen() as seen:
        blas.matmul(small, small)
        blas.matmul(big, big)
    expected = {1, blas.threads_for(big.size * 512)}
    assert seen.counts == expected, seen.counts
    with threads.BlasThreadsSeen() as seen:
        pass
    assert seen.text().split(",")[0] == "BLAS -"


def test_threads_cell_names_the_partner_process(monkeypatch):
    """A child whose recurrences ran in halves across numpyflow's partner process says so."""
    from benchmarks import threads
    from numpyflow.backend import partner

    class Running:
        alive = ready = True

    monkeypatch.setattr(partner, "_partner", Running())
    with threads.BlasThreadsSeen() as seen:
        pass
    assert seen.text().endswith(", 1 partner process")
    monkeypatch.setattr(partner, "_partner", None)
    assert not threads.partner_running()
