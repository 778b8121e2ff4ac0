"""benchmarks/run.py's report: table rows, the text and Markdown tables, the threads table,
the load footnote, every sample, and the notes.

    header, lines = build_table(results, table_rows(60000, 10000), ["numpyflow", "torch"])
    print(text_table(header, lines))
"""

import statistics

from benchmarks import cifar_cnn
from benchmarks.suite import (EPOCH_WORKLOADS, LABELS, LOAD_LIMIT, PEERS, PIPELINE_FILES,
                              PREDICT_SAMPLES, RATIO_LABELS, WORKLOADS, rounds_for)

def summary_of_calls(samples):
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "calls": len(ordered),
            "p10": ordered[len(ordered) // 10], "p90": ordered[(len(ordered) * 9) // 10]}


# Table rows: (metric key, label, unit, workload). Epoch rows get the sample count in the label.
def table_rows(n_train, n_test):
    predict_n = min(PREDICT_SAMPLES, n_test)
    epoch = f"{n_train:,} samples" if n_train != 60000 else "1 epoch"
    return [
        ("mlp", f"MLP, SGD, b32, {epoch}", "s", "mlp"),
        ("lenet32", f"LeNet-5, Adam, b32, {epoch}", "s", "lenet32"),
        ("lenet32_functional", f"LeNet-5 functional, Adam, b32, {epoch}", "s",
         "lenet32_functional"),
        ("lenet128", f"LeNet-5, Adam, b128, {epoch}", "s", "lenet128"),
        ("mlp_dataset", f"MLP from a Dataset, SGD, b32, {epoch}", "s", "mlp_dataset"),
        ("lstm32", f"LSTM(128) rows, Adam, b32, {epoch}", "s", "lstm32"),
        ("cifar_cnn", f"CIFAR-shaped CNN+BN, Adam, b64, "
                      f"{min(cifar_cnn.SAMPLES, n_train):,} samples", "s", "cifar_cnn"),
        ("pipeline", f"PNG pipeline, {min(PIPELINE_FILES, n_train):,} files, b32", "img/s",
         "pipeline"),
        ("dist_1rank", "LeNet-5 data-parallel, b64/replica, 1 process", "samples/s",
         "distributed_lenet"),
        ("dist_2rank", "LeNet-5 data-parallel, b64/replica, 2 processes", "samples/s",
         "distributed_lenet"),
        ("dist_efficiency", "LeNet-5 data-parallel scaling efficiency", "ratio",
         "distributed_lenet"),
        ("call_us", "MLP model(x), 1 sample", "µs", "inference"),
        ("predict1_us", "MLP predict(x), 1 sample", "µs", "inference"),
        ("predict_many_s", f"MLP predict, {predict_n:,} samples", "s", "inference"),
        ("import_s", "import time", "s", "import"),
        ("import_rss_mb", "RSS after import", "MB", "import"),
    ]


def paired_ratio(results_a, results_b, framework, key_a, key_b):
    """The median over rounds of a's sample over b's from the same round, or None."""
    samples = []
    for results, key in ((results_a, key_a), (results_b, key_b)):
        result = results.get(framework)
        if not result or "metrics" not in result or key not in result["metrics"]:
            return None
        samples.append(result["metrics"][key])
    pairs = [(a, b) for a, b in zip(*samples) if a is not None and b]
    if not pairs or len(samples[0]) != len(samples[1]):
        return None
    return statistics.median(a / b for a, b in pairs)


def median_of(results, framework, key):
    result = results.get(framework)
    if not result or "metrics" not in result or key not in result["metrics"]:
        return None
    samples = result["metrics"][key]
    values = [s for s in samples if s is not None]
    return statistics.median(values) if values else None


def fmt(value, unit):
    if value is None:
        return "-"
    if unit == "µs":
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    if unit in ("MB", "img/s", "samples/s"):
        return f"{value:,.0f}"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def build_table(results, rows, frameworks, flagged=()):
    """Header and rows of strings: value columns per framework, then numpyflow/peer ratios.

    Rows of a workload in `flagged` (rounds that began on a loaded machine) get a " *"."""
    peers = [p for p in PEERS if p in frameworks]
    header = ["workload", "unit"] + [LABELS[f] for f in frameworks] + \
             [RATIO_LABELS[p] for p in peers if "numpyflow" in frameworks]
    lines = []
    for key, label, unit, workload in rows:
        if workload not in results:
            continue
        per = results[workload]
        values = {f: median_of(per, f, key) for f in frameworks}
        if all(v is None for v in values.values()) and not any(
                per.get(f, {}).get("error") for f in frameworks):
            continue
        cells = [label + (" *" if workload in flagged else ""), unit]
        for f in frameworks:
            metrics = per.get(f, {}).get("metrics")
            if f not in WORKLOADS[workload] or (metrics and key not in metrics):
                cells.append("")  # Not part of this row (e.g. XLA for eager model(x)).
            elif per.get(f, {}).get("error"):
                cells.append("error")
            elif per.get(f, {}).get("skipped"):
                cells.append("n/a")
            else:
                cells.append(fmt(values[f], unit))
        if "numpyflow" in frameworks:
            for p in peers:
                r = ratio(values["numpyflow"], values[p])
                cells.append("" if r is None else f"{r:.2f}")
        lines.append(cells)
    return header, lines


def text_table(header, lines):
    widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]

    def line(row):
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(row, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in lines])


def markdown_table(header, lines):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in lines]
    return "\n".join(out)


def rounds_text(args):
    counts = {w.strip(): rounds_for(w.strip(), args) for w in args.workloads.split(",")
              if w.strip() in WORKLOADS}
    if len(set(counts.values())) <= 1:
        return str(next(iter(counts.values()), 0))
    return ", ".join(f"{count} for {workload}" for workload, count in counts.items())


def machine_lines(machine, args, data_note):
    return [
        f"CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} memory",
        f"Python {machine['python']} on {machine['os']}",
        f"numpy {machine['numpy']}, tensorflow-cpu {machine['tensorflow'] or '-'} "
        f"(keras {machine['keras'] or '-'}), torch {machine['torch'] or '-'}",
        "OPENBLAS_CORETYPE={OPENBLAS_CORETYPE}, OPENBLAS_L2_SIZE={OPENBLAS_L2_SIZE}, "
        "OPENBLAS_NUM_THREADS={OPENBLAS_NUM_THREADS}, OMP_NUM_THREADS={OMP_NUM_THREADS} "
        "(as found; the suite changes none)".format(**machine),
        f"numpyflow source: {machine['revision']}",
        f"Data: {data_note}",
        f"Rounds: {rounds_text(args)} (median shown); per-call timings: ~{args.budget:g} s "
        "of calls per round",
    ] + ([f"PARTIAL DATA (--limit {args.limit}): epoch rows train on a slice, so fixed "
          "per-fit costs (Keras: ~0.3 s) weigh far more than in a full epoch; use such "
          "ratios as a smoke test only"] if args.limit else [])


def info_text(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return "/".join(info_text(v) for v in value)
    return str(value)


def detail_lines(results, rows):
    """Every sample and each child's info, for the Markdown report."""
    out = []
    for workload, per in results.items():
        for framework, result in per.items():
            if result.get("error"):
                error = result["error"].strip().splitlines()
                out.append(f"- {workload} / {LABELS[framework]}: ERROR {error[0]} "
                           f"... {error[-1] if len(error) > 1 else ''}")
    for key, label, unit, workload in rows:
        for framework, result in results.get(workload, {}).items():
            samples = result.get("metrics", {}).get(key)
            if not samples:
                continue
            if unit == "µs":
                s = summary_of_calls(samples)
                text = (f"median {s['median']:.1f}, p10 {s['p10']:.1f}, p90 {s['p90']:.1f} µs "
                        f"over {s['calls']:,} calls")
            else:
                text = ", ".join(fmt(v, unit) for v in samples) + f" {unit}"
            info = {k: v for k, v in result.get("info", {}).items() if k != "rss_mb_end"}
            extra = ""
            shows_info = key in EPOCH_WORKLOADS or key in (
                "lstm32", "cifar_cnn", "predict_many_s", "pipeline", "dist_2rank")
            if shows_info and info:
                extra = " (" + ", ".join(f"{k} {info_text(v)}" for k, v in info.items()) + ")"
            out.append(f"- {label} / {LABELS[framework]}: {text}{extra}")
    return out


def threads_table(results, rows, frameworks):
    """Header and rows: for each workload, the threads each framework's children used
    (benchmarks/threads.py: numpyflow's BLAS policy, PyTorch's and TF's thread settings)."""
    header = ["workload"] + [LABELS[f] for f in frameworks]
    lines, seen = [], set()
    for _, label, _, workload in rows:
        if workload in seen or workload not in results or workload == "import":
            continue
        seen.add(workload)
        cells = ["MLP inference: model(x), predict" if workload == "inference" else label]
        for f in frameworks:
            info = results[workload].get(f, {}).get("info", {})
            if "threads_1rank" in info:  # Data-parallel: one process, then two.
                cells.append(f"{info['threads_1rank']} (1 process), "
                             f"{info['threads_per_rank_2ranks']} each (2 processes)")
            else:
                cells.append(str(info.get("threads", "")))
        if any(cells[1:]):
            lines.append(cells)
    return header, lines


def flagged_workloads(loads):
    """The workloads with a round that began while the load average was above LOAD_LIMIT."""
    return {w for w, per_round in loads.items()
            if any((load["load1"] or 0) > LOAD_LIMIT for load in per_round)}


def load_lines(loads):
    """One line per workload with a round that began above LOAD_LIMIT (the rows marked *)."""
    out = []
    for workload, per_round in loads.items():
        high = [(i + 1, load) for i, load in enumerate(per_round)
                if (load["load1"] or 0) > LOAD_LIMIT]
        if not high:
            continue
        rounds = "; ".join(
            f"round {i}: load {load['load1']:.2f}" + (
                f", {load['busy_cores']:.2f} cores busy" if load["busy_cores"] is not None
                else "") for i, load in high)
        out.append(f"{workload}: {len(high)} of {len(per_round)} rounds ({rounds})")
    return out


NOTES = """\
- Timings come from a shared 2-core machine: other work on it (see the load averages) makes
  them noisy, multi-threaded peers most. So each workload runs in rounds: every round starts
  one fresh process per framework, in an order rotated each round, and times one epoch (one
  import, one series of calls) in it; the table shows the median over the rounds. Compare
  ratios measured in the same run, not single numbers across runs.
- A row marked * had rounds that began while the machine's 1-minute load average was above
  0.5 (listed under the table with the cores busy in the 0.5 s before the round). The load
  average decays over minutes, so the suite's own previous child keeps it up for a while;
  the busy cores say whether something else was running then.
- Epoch rows are steady-state: each process builds and compiles the model and trains on
  {warm} batches first ({cifar_warm} for the CIFAR-shaped CNN, plus the epoch's final partial
  batch if it has one; both Keras implementations trace and compile their train step
  then: TF into a graph, or with XLA, numpyflow into a plan of array calls; `warmup_s`
  under "All samples"), then times one full epoch. numpyflow and TF/Keras run the same
  Keras code on models built behind `keras.Input` (`fit(x, y, batch_size, epochs=1,
  verbose=0)`, metrics=['accuracy']); "TF/Keras" keeps Keras 3's jit_compile='auto'
  (resolved as shown under "All samples"), "TF/Keras XLA" compiles with
  `jit_compile=True` (its `model(x)` cell stays empty: a direct call runs eagerly either
  way). PyTorch runs the idiomatic loop (nn.Sequential, CrossEntropyLoss on logits,
  torch.optim, shuffled index batches) at its default threads and, in "PyTorch 1 thread",
  after `torch.set_num_threads(1)`; it has no Sequential/functional distinction, so its
  cells in the "LeNet-5 functional" row stay empty. The NumPy loop is forward, backward and SGD in
  float32 on shuffled batches, with its products through numpyflow's BLAS policy (one
  OpenBLAS thread for products below 16M multiply-adds, i.e. all of them at batch 32) and no
  loss/metric bookkeeping.
- "LeNet-5 functional" is the same model built with `keras.Input` + `keras.Model`
  (`build_lenet5_functional` in examples/lenet5.py) instead of `Sequential`; its rounds
  alternate with the Sequential LeNet-5's. The target "functional <= {functional:.2f} x
  Sequential" compares numpyflow with itself in the same run, as the median of the
  per-round ratios (each round's two epochs ran back to back, under the same load): the
  functional API must train as fast as Sequential, within noise (the functional API issue's
  "same speed as Sequential").
- "MLP from a Dataset" trains the MLP row's model for one epoch from
  `tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000).batch(32).prefetch(AUTOTUNE)`
  (`fit(dataset, epochs=1, verbose=0)`) instead of arrays; its rounds alternate with the MLP
  row's, and the target "from a Dataset <= {dataset:.2f} x from arrays" is numpyflow against
  itself, as the median of the per-round ratios.
- "PNG pipeline": the first {files:,} training images are written once per run as 28x28
  grayscale PNG files, which both frameworks read; each process builds
  `list_files(pattern, seed=0) -> map(read_file + decode_png + resize to 32x32 +
  random_flip_left_right, num_parallel_calls=AUTOTUNE) -> batch(32) -> prefetch(AUTOTUNE)`,
  pulls 2 batches (warm-up), then times one full pass: images per second, higher is better,
  so its ratio above 1 means numpyflow is faster (target: >= {pipeline:.1f} x TF's tf.data).
- Inference: Keras `model(x)` and `predict(x, verbose=0)` get a NumPy array; PyTorch's
  `model(x)` row is a tensor under torch.no_grad(), its `predict` rows are
  `model(torch.from_numpy(x)).numpy()` under no_grad in one call (Keras predicts 10,000
  samples in batches of 32). Per-call rows: median of every call of every round.
- "CIFAR-shaped CNN+BN" (issue #17) trains {cifar:,} synthetic 32x32x3 images (the pixels do
  not change the speed) through 3 x (Conv2D 3x3 same, no bias -> BatchNormalization ->
  ReLU -> MaxPooling2D 2) with 32/64/128 filters, Flatten, Dense(10), Adam, batch 64: a
  functional Keras model for numpyflow and TF, the same layers on NCHW tensors for PyTorch
  (BatchNorm2d with Keras' momentum and epsilon); benchmarks/cifar_cnn.py.
- Import: `import X` timed inside a fresh interpreter (interpreter start-up excluded), VmRSS
  of that process right after; the NumPy column is `import numpy`, which numpyflow includes.
  numpyflow's bytecode is written first, as pip does for the installed peers.
"""
