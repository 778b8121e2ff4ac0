"""What benchmarks/run.py measures: the frameworks (columns), the workloads (rows), who takes
part in which, and the targets' limits. Shared by the children, the orchestration and the
report.

    from benchmarks.suite import WORKLOADS, LABELS
    [LABELS[f] for f in WORKLOADS["lenet32"]]   # ['numpyflow', 'TF/Keras', ...]
"""

FRAMEWORKS = ("numpyflow", "tensorflow", "tensorflow_xla", "torch", "torch_1thread", "numpy")
LABELS = {"numpyflow": "numpyflow", "tensorflow": "TF/Keras", "tensorflow_xla": "TF/Keras XLA",
          "torch": "PyTorch", "torch_1thread": "PyTorch 1 thread", "numpy": "NumPy"}
PEERS = FRAMEWORKS[1:]
RATIO_LABELS = {"tensorflow": "nf/TF", "tensorflow_xla": "nf/TF XLA", "torch": "nf/PyTorch",
                "torch_1thread": "nf/PyTorch 1t", "numpy": "nf/NumPy"}
# The peers' variants: TF/Keras compiled with jit_compile=True (XLA), which a TF user who
# cares about speed turns on, and PyTorch pinned to one thread (torch.set_num_threads(1)),
# which shows how much of PyTorch's default result is the second core. Each variant is a
# framework of its own here: its own processes, its own turn in the rotation, its own column.
BASE_FRAMEWORK = {"tensorflow_xla": "tensorflow", "torch_1thread": "torch"}
KERAS = ("numpyflow", "tensorflow", "tensorflow_xla")
TORCH = ("torch", "torch_1thread")
EVERYONE = ("numpyflow", "tensorflow", "tensorflow_xla", "torch", "torch_1thread")
# Which frameworks take part in which workload ('numpy' is the hand-written loop for the MLP
# and plain `import numpy` for the import row).
WORKLOADS = {
    "mlp": EVERYONE + ("numpy",),
    "lenet32": EVERYONE,
    # The same LeNet-5 through the functional API. PyTorch has no Sequential/functional
    # distinction (its lenet32 column is the one to compare), so it sits this one out.
    "lenet32_functional": KERAS,
    "lenet128": EVERYONE,
    # The MLP fed from a Dataset, and the PNG input pipeline: Keras and tf.data only (the
    # pipeline trains nothing, so XLA has nothing to compile there).
    "mlp_dataset": KERAS,
    "pipeline": ("numpyflow", "tensorflow"),
    "lstm32": EVERYONE,
    # Issue #17's CIFAR-10-shaped functional CNN with BatchNormalization
    # (benchmarks/cifar_cnn.py).
    "cifar_cnn": EVERYONE,
    # numpyflow's MPI strategy vs PyTorch DDP (issue #16); each child launches the
    # processes itself (benchmarks/distributed_lenet.py).
    "distributed_lenet": ("numpyflow", "torch"),
    "inference": EVERYONE,
    "import": ("numpyflow", "tensorflow", "torch", "numpy"),
}
# Epoch workloads: batch size, and whether the model is LeNet-5 (on 28x28x1 images).
EPOCH_WORKLOADS = {"mlp": (32, False), "lenet32": (32, True),
                   "lenet32_functional": (32, True), "lenet128": (128, True),
                   "mlp_dataset": (32, False)}
# A workload whose rounds alternate with another's when both run, so that a ratio between
# the two (the functional-vs-Sequential check) sees the same load on the machine.
INTERLEAVE_WITH = {"lenet32_functional": "lenet32", "mlp_dataset": "mlp"}
# numpyflow's functional LeNet-5 epoch may take at most this times its Sequential one: the
# functional API adds no per-step cost, so they should match within noise.
FUNCTIONAL_VS_SEQUENTIAL_LIMIT = 1.10
# numpyflow's MLP epoch from a Dataset may take at most this times its epoch from arrays.
DATASET_VS_ARRAYS_LIMIT = 1.15
# numpyflow's image pipeline must deliver at least this times TF's tf.data images per second.
PIPELINE_VS_TF_LIMIT = 1.0
# Issue #16's targets for data-parallel LeNet-5: 2-rank scaling efficiency, and 2-rank
# samples/s against PyTorch DDP's.
DISTRIBUTED_EFFICIENCY_LIMIT = 0.85
DISTRIBUTED_VS_DDP_LIMIT = 1.0
# The image pipeline's files: at most this many training images (fewer with --limit).
PIPELINE_FILES = 2000
PIPELINE_DIR = "pipeline_png"
QUICK_LIMIT = 6000
WARMUP_BATCHES = 20
PREDICT_SAMPLES = 10_000
# Issue #17's targets (ratios of numpyflow's median to the peer's, same run).
LENET_VS_TORCH_LIMIT = 0.8  # LeNet-5 b32 and b128 vs PyTorch at its default threads
LENET_VS_TF_LIMIT = 0.5  # ... and vs the faster of TF/Keras with and without XLA
MLP_VS_TORCH_LIMIT = 0.5
MLP_VS_NUMPY_LIMIT = 1.1
PREDICT_VS_TORCH_LIMIT = 1.0  # predict on PREDICT_SAMPLES samples
CIFAR_VS_TORCH_LIMIT = 1.0
IMPORT_S_LIMIT = 0.15
IMPORT_RSS_MB_LIMIT = 30
# A round that starts while the 1-minute load average is above this is flagged in the report.
LOAD_LIMIT = 0.5


# Default rounds: LeNet's epochs take minutes across the peers; the other workloads are
# cheap, and more rounds steady their medians on a shared machine. The LSTM epoch (~1.5
# minutes a round across the peers) gets five too: every framework's epoch moved 15-40%
# from round to round on this host (2026-11-30), and #14's two targets were each decided
# by a median of three within a few percent of the bar.
DEFAULT_ROUNDS = {"lenet32": 3, "lenet32_functional": 3, "lenet128": 3, "cifar_cnn": 3,
                  "distributed_lenet": 3}


def rounds_for(workload, args):
    """Rounds of `workload`: --repeats if given, else 1 with --quick, else DEFAULT_ROUNDS'
    (5 for a workload it does not name)."""
    if args.repeats is not None:
        return args.repeats
    return 1 if args.quick else DEFAULT_ROUNDS.get(workload, 5)
