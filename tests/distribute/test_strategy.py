"""tf.distribute in one process: contexts, strategies, reduce, input splitting, options,
errors, and the trainer seam (a stand-in communicator plays a second replica)."""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.distribute import distributed_file_utils, input_lib
from numpyflow.distribute.strategy import Strategy
from tests.distribute.fakes import MirrorCommunicator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _two_replicas(rank=0, **kwargs):
    return tf.distribute.MultiWorkerMirroredStrategy(
        communicator=MirrorCommunicator(rank=rank, **kwargs))


def test_contexts():
    strategy = tf.distribute.MirroredStrategy()
    assert not tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()
    default = tf.distribute.get_strategy()
    assert default.num_replicas_in_sync == 1
    assert tf.distribute.get_replica_context().strategy is default
    with strategy.scope():
        assert tf.distribute.get_strategy() is strategy and tf.distribute.has_strategy()
        assert tf.distribute.in_cross_replica_context()
        assert tf.distribute.get_replica_context() is None
        assert tf.distribute.get_cross_replica_context() is strategy
        inside = strategy.run(lambda: (tf.distribute.in_cross_replica_context(),
                                       tf.distribute.get_replica_context().strategy))
        assert inside == (False, strategy)
    assert tf.distribute.get_strategy() is default


def test_scopes_of_two_strategies_do_not_mix():
    first, second = tf.distribute.MirroredStrategy(), tf.distribute.OneDeviceStrategy("/cpu:0")
    with first.scope():
        with pytest.raises(ValueError, match="Mixing different tf.distribute.Strategy"):
            with second.scope():
                pass


def test_strategy_attributes():
    for strategy in (tf.distribute.MirroredStrategy(), tf.distribute.OneDeviceStrategy("cpu"),
                     tf.distribute.MultiWorkerMirroredStrategy(), tf.distribute.MPIStrategy()):
        assert isinstance(strategy, Strategy)
        assert strategy.num_replicas_in_sync == 1
        assert strategy.cluster_resolver.task_id == 0
        assert strategy.cluster_resolver.task_type == "worker"
        assert strategy.extended.should_checkpoint and strategy.extended.should_save_summary
    worker = _two_replicas(rank=1)
    assert worker.num_replicas_in_sync == 2 and worker.cluster_resolver.task_id == 1
    assert not worker.extended.should_checkpoint
    assert tf.distribute.MPIStrategy is tf.distribute.MultiWorkerMirroredStrategy
    assert tf.distribute.experimental.MultiWorkerMirroredStrategy is \
        tf.distribute.MultiWorkerMirroredStrategy


def test_unsupported_arguments_are_refused():
    with pytest.raises(NotImplementedError, match=r"devices=\['/gpu:0'\]"):
        tf.distribute.MirroredStrategy(devices=["/gpu:0"])
    with pytest.raises(NotImplementedError, match="cross_device_ops"):
        tf.distribute.MirroredStrategy(cross_device_ops=object())
    with pytest.raises(ValueError, match="must be an instance of "
                       "tf.distribute.experimental.CommunicationOptions; received 'ring'"):
        tf.distribute.MultiWorkerMirroredStrategy(communication_options="ring")
    nccl = tf.distribute.experimental.CommunicationOptions(implementation="nccl")
    with pytest.raises(NotImplementedError, match="NCCL needs NVIDIA GPUs"):
        tf.distribute.MultiWorkerMirroredStrategy(communication_options=nccl)
    with pytest.raises(NotImplementedError, match="options"):
        tf.distribute.MirroredStrategy().run(lambda: 1, options=object())


def test_reduce_op():
    assert tf.distribute.ReduceOp.from_string("sum") is tf.distribute.ReduceOp.SUM
    assert tf.distribute.ReduceOp.from_string("MEAN") is tf.distribute.ReduceOp.MEAN
    with pytest.raises(ValueError, match="'median'"):
        tf.distribute.ReduceOp.from_string("median")


def test_reduce_one_replica_and_two():
    one = tf.distribute.MirroredStrategy()
    value = tf.constant([[1., 2.], [3., 4.], [5., 6.]])
    np.testing.assert_allclose(one.reduce("SUM", value, axis=None).numpy(), value.numpy())
    np.testing.assert_allclose(one.reduce("SUM", value, axis=0).numpy(), [9., 12.])
    np.testing.assert_allclose(one.reduce("MEAN", value, axis=0).numpy(), [3., 4.])
    two = _two_replicas()  # The other replica holds the same values.
    np.testing.assert_allclose(two.reduce("SUM", value, axis=0).numpy(), [18., 24.])
    np.testing.assert_allclose(two.reduce("MEAN", value, axis=0).numpy(), [3., 4.])
    np.testing.assert_allclose(two.reduce("MEAN", value, axis=None).numpy(), value.numpy())


def test_all_reduce_packs_one_buffer_per_dtype():
    communicator = MirrorCommunicator()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communicator=communicator)
    tensors = [tf.ones((2, 3)), tf.zeros(4), tf.ones(2, dtype=tf.float64), tf.ones((1,))]
    reduced = strategy.run(lambda: tf.distribute.get_replica_context().all_reduce(
        "SUM", tensors))
    assert [r.shape.as_list() for r in reduced] == [[2, 3], [4], [2], [1]]
    np.testing.assert_allclose(reduced[0].numpy(), 2 * np.ones((2, 3)))
    sizes = sorted(call[2] for call in communicator.calls if call[0] == "allreduce")
    assert sizes == [(2,), (11,)]  # float64 and float32: two calls, never one per tensor.


def test_the_all_reduce_stays_in_a_compiled_plan():
    communicator = MirrorCommunicator()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communicator=communicator)
    variable = tf.Variable([1., 2.])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(variable * x)
        gradient = tape.gradient(loss, variable)
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce(
            "SUM", gradient))

    for _ in range(4):
        result = step(tf.constant([3., 4.]))
    np.testing.assert_allclose(result.numpy(), [6., 8.])
    assert step.eager_reasons() == []
    (source,) = step.plan_sources()
    assert source.count("f_CollectiveReduceV2(") == 1
    assert len([c for c in communicator.calls if c[0] == "allreduce"]) == 4


def test_apply_gradients_sums_over_replicas_in_a_replica_context():
    strategy = _two_replicas()
    with strategy.scope():
        variable = tf.Variable([1., 1.])
        optimizer = tf.keras.optimizers.SGD(0.5)
    strategy.run(lambda: optimizer.apply_gradients([(tf.constant([1., 2.]), variable)]))
    np.testing.assert_allclose(variable.numpy(), [0., -1.])  # 1 - 0.5 * 2 * g
    with strategy.scope(), pytest.raises(RuntimeError, match="inside `strategy.run"):
        optimizer.apply_gradients([(tf.constant([1., 2.]), variable)])


def test_variables_of_the_scope_take_the_chiefs_values_before_the_first_run():
    communicator = MirrorCommunicator()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communicator=communicator)
    with strategy.scope():
        kept = [tf.Variable(tf.zeros((2, 3))), tf.Variable(tf.zeros(4, dtype=tf.int32))]
    strategy.run(lambda: None)
    assert [c[0] for c in communicator.calls] == ["allgather", "broadcast", "broadcast"]
    strategy.run(lambda: None)
    assert len(communicator.calls) == 3  # Only once.
    del kept


def test_replicas_with_different_models_get_a_clear_error():
    chief = [((3, 4), "float32"), ((4,), "float32")]
    other = [((3, 4), "float32"), ((4,), "float32"), ((4, 2), "float32")]
    strategy = tf.distribute.MultiWorkerMirroredStrategy(
        communicator=MirrorCommunicator(signatures=[chief, other]))
    with pytest.raises(ValueError, match=r"The replicas disagree on the model: rank 0 has 2 "
                                         r"variables \(16 parameters\), rank 1 has 3 variables "
                                         r"\(24 parameters\)"):
        strategy.extended._broadcast_variables([tf.Variable(tf.zeros((3, 4))),
                                                tf.Variable(tf.zeros(4))], "the model")


def test_per_replica_slices():
    assert input_lib.per_replica_slices(5, 2) == [slice(0, 3), slice(3, 5)]
    assert input_lib.per_replica_slices(4, 4) == [slice(i, i + 1) for i in range(4)]


def test_distribute_dataset_gives_each_replica_its_piece():
    dataset = tf.data.Dataset.range(10).batch(4)
    pieces = [b.numpy().tolist() for b in
              _two_replicas(rank=1).experimental_distribute_dataset(dataset)]
    assert pieces == [[2, 3], [6, 7], [9]]
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    everything = _two_replicas(rank=1).experimental_distribute_dataset(
        dataset.with_options(options))
    assert [b.numpy().tolist() for b in everything] == [[0, 1], [2, 3], [4, 5], [6, 7], [8],
                                                         [9]]
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.FILE
    with pytest.raises(NotImplementedError, match="AutoShardPolicy.FILE"):
        _two_replicas().experimental_distribute_dataset(dataset.with_options(options))


def test_distribute_datasets_from_function():
    contexts = []

    def dataset_fn(context):
        contexts.append(context)
        batch = context.get_per_replica_batch_size(8)
        return tf.data.Dataset.range(8).shard(context.num_input_pipelines,
                                              context.input_pipeline_id).batch(batch)

    result = _two_replicas(rank=1).distribute_datasets_from_function(dataset_fn)
    assert [b.numpy().tolist() for b in result] == [[1, 3, 5, 7]]
    (context,) = contexts
    assert (context.num_input_pipelines, context.input_pipeline_id,
            context.num_replicas_in_sync) == (2, 1, 2)
    with pytest.raises(ValueError, match="not divisible"):
        context.get_per_replica_batch_size(7)


def test_auto_shard_policy_option():
    options = tf.data.Options()
    assert options.experimental_distribute.auto_shard_policy == \
        tf.data.experimental.AutoShardPolicy.AUTO
    options.experimental_distribute.auto_shard_policy = 2
    assert options.experimental_distribute.auto_shard_policy is \
        tf.data.experimental.AutoShardPolicy.DATA
    with pytest.raises(ValueError, match="auto_shard_policy"):
        options.experimental_distribute.auto_shard_policy = 7
    with pytest.raises(NotImplementedError, match="num_devices"):
        options.experimental_distribute.num_devices = 2


def test_compute_average_loss():
    losses = tf.constant([1., 2., 3., 6.])
    assert float(tf.nn.compute_average_loss(losses)) == 3.
    assert float(tf.nn.compute_average_loss(losses, global_batch_size=8)) == 1.5
    assert float(tf.nn.compute_average_loss(losses, sample_weight=[1., 1., 0., 0.])) == 0.75
    with _two_replicas().scope():
        assert float(tf.nn.compute_average_loss(losses)) == 1.5  # Global batch: 4 x 2.
        assert float(tf.nn.scale_regularization_loss(tf.constant(3.))) == 1.5
    with pytest.raises(ValueError, match="global_batch_size=0"):
        tf.nn.compute_average_loss(losses, global_batch_size=0)
    with pytest.raises(TypeError, match="floating"):
        tf.nn.compute_average_loss(tf.constant([1, 2]))



def test_compute_average_loss_of_an_empty_replica_batch_and_a_scalar_as_tf():
    # An unevenly split global batch can leave a replica no examples: TF 2.21 gives 0.
    for scope in (_two_replicas().scope(), tf.distribute.MirroredStrategy().scope()):
        with scope:
            assert float(tf.nn.compute_average_loss(tf.zeros((0,)))) == 0.
    # A scalar is an already reduced loss, not per-example losses: TF 2.21 refuses it.
    with pytest.raises(ValueError, match=r"at least rank 1.*per_example_loss=3.0 with rank 0"):
        tf.nn.compute_average_loss(tf.constant(3.))


def test_file_paths_of_non_chief_replicas():
    worker = _two_replicas(rank=1)
    assert distributed_file_utils.write_dirpath("logs", worker) == os.path.join(
        "logs", "workertemp_1")
    assert distributed_file_utils.write_filepath("a/m.keras", worker) == os.path.join(
        "a", "workertemp_1", "m.keras")
    assert distributed_file_utils.write_filepath("a/m.keras", tf.distribute.get_strategy()) \
        == "a/m.keras"


def _model():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(8, activation="relu"),
                                tf.keras.layers.BatchNormalization(),
                                tf.keras.layers.Dense(3)])


def test_fit_under_mirrored_strategy_equals_fit_without():
    x = np.random.default_rng(0).normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    histories = []
    for strategy in (None, tf.distribute.MirroredStrategy()):
        tf.random.set_seed(3)
        scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
        with scope:
            model = _model()
            model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(
                from_logits=True), metrics=["accuracy"])
        assert model.distribute_strategy is (strategy or tf.distribute.get_strategy())
        histories.append(model.fit(x, y, batch_size=16, epochs=2, verbose=0,
                                   validation_split=0.25).history)
    assert histories[0] == histories[1]


def test_models_of_a_strategy_copy_and_pickle():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = _model()
    assert copy.deepcopy(model).distribute_strategy is strategy
    restored = pickle.loads(pickle.dumps(model))
    assert isinstance(restored.distribute_strategy, tf.distribute.MirroredStrategy)


def test_synchronized_batch_norm_uses_global_statistics():
    x = tf.constant(np.random.default_rng(1).normal(size=(6, 3)).astype("float32"))
    plain = tf.keras.layers.BatchNormalization()
    strategy = _two_replicas()
    with strategy.scope():
        synced = tf.keras.layers.BatchNormalization(synchronized=True)
    expected = plain(x, training=True)
    # Both replicas hold x: the global statistics are x's own.
    result = strategy.run(lambda: synced(x, training=True))
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(synced.moving_variance.numpy(), plain.moving_variance.numpy(),
                               rtol=1e-5)
    assert synced.get_config()["synchronized"] is True


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT, **env), cwd=ROOT, timeout=60)


def test_mpi4py_is_imported_only_for_several_processes():
    completed = _run("import sys, numpyflow as tf\n"
                     "s = tf.distribute.MultiWorkerMirroredStrategy()\n"
                     "import numpyflow.keras\n"
                     "print(s.num_replicas_in_sync, 'mpi4py' in sys.modules)")
    assert completed.stdout.split() == ["1", "False"], completed.stderr


def test_missing_mpi4py_names_the_extra():
    completed = _run("import sys; sys.modules['mpi4py'] = None\n"
                     "import numpyflow as tf\n"
                     "tf.distribute.MultiWorkerMirroredStrategy()", OMPI_COMM_WORLD_SIZE="2")
    assert completed.returncode != 0
    assert "pip install numpyflow[mpi]" in completed.stderr


def test_dataset_shard():
    dataset = tf.data.Dataset.range(10).shard(3, 1)
    assert [int(x) for x in dataset] == [1, 4, 7] and int(dataset.cardinality()) == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"currently index = 3"):
        tf.data.Dataset.range(10).shard(3, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"currently num_shards = 0"):
        tf.data.Dataset.range(10).shard(0, 0)


def test_train_on_batch_scales_the_loss_and_sums_the_gradients():
    """Under 2 replicas holding the same batch, the loss is halved and the two gradients
    summed: the same update and the same reported loss as one process."""
    x = np.random.default_rng(2).normal(size=(8, 4)).astype("float32")
    y = np.arange(8) % 3
    results = []
    for strategy in (tf.distribute.MirroredStrategy(), _two_replicas()):
        tf.random.set_seed(5)
        with strategy.scope():
            model = _model()
            model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        loss = model.train_on_batch(x, y)
        results.append((loss, [w.numpy() for w in model.trainable_weights]))
    (loss_one, weights_one), (loss_two, weights_two) = results
    assert loss_two == pytest.approx(loss_one, rel=1e-6)
    for one, two in zip(weights_one, weights_two):
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-7)


def test_ranks_sharing_a_machine_limit_their_blas_threads(monkeypatch):
    from numpyflow.backend import blas
    from numpyflow.distribute import communicator
    monkeypatch.setattr(blas, "_max_threads", 4)
    monkeypatch.setattr(communicator.os, "cpu_count", lambda: 4)
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    communicator._share_cores()
    assert blas.threads_for(10 ** 9) == 2 and blas.threads_for(10) == 1
    blas.limit_threads(0)
    assert blas.threads_for(10 ** 9) == 1
