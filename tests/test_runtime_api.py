"""The runtime API: tf.config, tf.device, tf.nest, control flow, tf.custom_gradient,
tf.Module, tf.random.Generator and the small graph-era helpers (TF 2.21's behaviour)."""

import collections
import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend import blas, threads


# -- tf.config -------------------------------------------------------------------------------

def test_devices_are_one_cpu_and_no_gpu():
    cpu = tf.config.PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")
    assert tf.config.list_physical_devices() == [cpu]
    assert tf.config.list_physical_devices("CPU") == [cpu]
    assert len(tf.config.list_physical_devices("GPU")) == 0
    assert tf.config.list_logical_devices() == [
        tf.config.LogicalDevice(name="/device:CPU:0", device_type="CPU")]
    assert tf.config.list_logical_devices("GPU") == []
    assert tf.config.get_visible_devices() == [cpu]
    assert repr(cpu) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"


def test_visible_devices_hide_gpus_but_not_the_cpu():
    tf.config.set_visible_devices([], "GPU")
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_visible_devices([cpu])
    with pytest.raises(ValueError, match="CPU must remain visible"):
        tf.config.set_visible_devices([], "CPU")
    with pytest.raises(ValueError, match="unrecognized device"):
        tf.config.set_visible_devices(["/GPU:0"])


def test_memory_growth_and_details_of_the_cpu_as_tf():
    cpu = tf.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="Cannot set memory growth on non-GPU"):
        tf.config.experimental.set_memory_growth(cpu, True)
    with pytest.raises(ValueError, match="non-GPU"):
        tf.config.experimental.get_memory_growth(cpu)
    assert tf.config.experimental.get_device_details(cpu) == {}
    with pytest.raises(ValueError, match="PhysicalDevice"):
        tf.config.experimental.get_device_details("CPU:0")


def test_logical_cpus_can_be_configured_and_reset():
    cpu = tf.config.list_physical_devices("CPU")[0]
    assert tf.config.get_logical_device_configuration(cpu) is None
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        assert [d.name for d in tf.config.list_logical_devices("CPU")] == [
            "/device:CPU:0", "/device:CPU:1"]
        assert len(tf.config.get_logical_device_configuration(cpu)) == 2
        with pytest.raises(ValueError, match="memory limit on CPU"):
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration(memory_limit=10)])
    finally:
        tf.config.set_logical_device_configuration(cpu, None)
    assert len(tf.config.list_logical_devices()) == 1


def test_intra_op_threads_cap_the_kernels_threads(monkeypatch):
    from numpyflow import config
    monkeypatch.setattr(blas, "_max_threads", max(2, blas._max_threads))
    monkeypatch.setattr(config._settings, "intra_op_threads", 0)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 0
    tf.config.threading.set_intra_op_parallelism_threads(1)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 1
    assert blas.threads_for(10 ** 12) == 1   # BLAS products
    assert threads.cores() == 1              # and batch splits
    with pytest.raises(ValueError, match="num_threads"):
        tf.config.threading.set_intra_op_parallelism_threads(-1)


def test_inter_op_threads_soft_placement_jit_and_determinism_are_recorded(monkeypatch):
    from numpyflow import config
    for name in ("inter_op_threads", "soft_device_placement", "jit", "op_determinism"):
        monkeypatch.setattr(config._settings, name, getattr(config._settings, name))
    assert tf.config.threading.get_inter_op_parallelism_threads() == 0
    tf.config.threading.set_inter_op_parallelism_threads(2)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 2
    assert tf.config.get_soft_device_placement() is True
    tf.config.set_soft_device_placement(False)
    assert tf.config.get_soft_device_placement() is False
    assert tf.config.optimizer.get_jit() == ""
    tf.config.optimizer.set_jit(True)
    assert tf.config.optimizer.get_jit() == "autoclustering"
    assert not tf.config.experimental.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    assert tf.config.experimental.is_op_determinism_enabled()


def test_run_functions_eagerly_runs_the_python_every_call():
    calls = []

    @tf.function
    def double(x):
        calls.append(1)
        return x * 2.

    assert tf.config.functions_run_eagerly() is False
    tf.config.run_functions_eagerly(True)
    try:
        for _ in range(4):
            assert float(double(tf.constant(1.))) == 2.
        assert len(calls) == 4 and double.plan_sources() == []
    finally:
        tf.config.run_functions_eagerly(False)
    for _ in range(4):
        double(tf.constant(1.))
    assert len(calls) == 6 and len(double.plan_sources()) == 1  # Traced twice, then a plan.


# -- execution, devices ---------------------------------------------------------------------

def test_executing_eagerly_is_false_while_tracing():
    seen = []

    @tf.function
    def probe(x):
        seen.append(tf.executing_eagerly())
        return x + 1.

    probe(tf.constant(1.))
    assert tf.executing_eagerly() is True and seen == [False]
    with tf.GradientTape():
        probe(tf.constant(1.))  # Runs as Python for the tape: still a function body.
    assert seen == [False, False]
    tf.config.run_functions_eagerly(True)
    try:
        probe(tf.constant(1.))
    finally:
        tf.config.run_functions_eagerly(False)
    assert seen == [False, False, True] and tf.executing_eagerly() is True


def test_device_accepts_any_well_formed_name_and_runs_on_the_cpu():
    x = tf.constant([1., 2.])
    for name in ("/CPU:0", "/GPU:0", "/device:GPU:1", "gpu:0", None,
                 "/job:localhost/replica:0/task:0/device:CPU:0", tf.DeviceSpec(device_type="GPU")):
        with tf.device(name):
            y = x * 2.
        assert y.device.endswith("device:CPU:0")
    with pytest.raises(ValueError, match="Unknown attribute 'foo'"):
        with tf.device("foo"):
            pass


def test_device_spec_parses_and_prints_as_tf():
    spec = tf.DeviceSpec.from_string("/job:w/replica:0/task:1/device:GPU:0")
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == (
        "w", 0, 1, "GPU", 0)
    assert tf.DeviceSpec(job="w", device_type="CPU", device_index=0).to_string() == \
        "/job:w/device:CPU:0"
    assert tf.DeviceSpec.from_string("/CPU:1").to_string() == "/device:CPU:1"
    assert spec.replace(task=3).task == 3
    assert spec.make_merged_spec(tf.DeviceSpec(device_type="CPU")).device_type == "CPU"


# -- tf.nest ---------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


def test_nest_flattens_as_tf():
    assert tf.nest.flatten(None) == [None]
    assert tf.nest.flatten({"b": 1, "a": (2, [3, None])}) == [2, 3, None, 1]
    assert tf.nest.flatten(Point(1, {"z": 2})) == [1, 2]
    assert tf.nest.flatten({1, 2}) == [{1, 2}]  # A set is a leaf.
    t = tf.constant([1, 2])
    assert tf.nest.flatten(t)[0] is t
    assert (tf.nest.is_nested("ab"), tf.nest.is_nested([]), tf.nest.is_nested({}),
            tf.nest.is_nested(np.zeros(2))) == (False, True, True, False)
    deep = 0
    for _ in range(5000):  # No recursion limit when flattening.
        deep = [deep]
    assert tf.nest.flatten(deep) == [0]


def test_nest_packs_and_maps_keeping_types_and_key_order():
    assert tf.nest.pack_sequence_as({"b": 1, "a": (2, 3)}, [7, 8, 9]) == {"b": 9, "a": (7, 8)}
    assert tf.nest.pack_sequence_as(Point(0, 0), [1, 2]) == Point(1, 2)
    packed = tf.nest.pack_sequence_as(collections.defaultdict(list, {"a": 0}), [5])
    assert isinstance(packed, collections.defaultdict) and packed["a"] == 5
    assert tf.nest.pack_sequence_as(0, [7]) == 7
    assert tf.nest.map_structure(lambda a, b: a + b, [1, (2,)], [3, (4,)]) == [4, (6,)]
    with pytest.raises(ValueError, match="2 atoms, but flat_sequence had 1"):
        tf.nest.pack_sequence_as([1, 2], [1])
    with pytest.raises(TypeError, match="list or tuple"):
        tf.nest.pack_sequence_as([1], 1)
    with pytest.raises(ValueError, match="at least one structure"):
        tf.nest.map_structure(lambda a: a)


def test_nest_assert_same_structure_errors_as_tf():
    tf.nest.assert_same_structure([1, (2, 3)], ["a", ("b", "c")])
    tf.nest.assert_same_structure([1, (2, 3)], [1, [2, 3]], check_types=False)
    with pytest.raises(TypeError, match="same sequence type"):
        tf.nest.assert_same_structure([1, (2, 3)], [1, [2, 3]])
    with pytest.raises(ValueError, match="same nested structure"):
        tf.nest.assert_same_structure([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="is a sequence, while"):
        tf.nest.map_structure(lambda a, b: a + b, [1, (2,)], [3, 4])
    with pytest.raises(ValueError, match="different keys"):
        tf.nest.assert_same_structure({"a": 1}, {"b": 1})


# -- control flow ----------------------------------------------------------------------------

def test_cond_case_and_switch_case_run_one_branch():
    x = tf.constant(2.)
    assert float(tf.cond(x > 1., lambda: x * 10., lambda: x)) == 20.
    assert tf.cond(True, lambda: 1, lambda: 2) == 1
    with pytest.raises(TypeError, match="'false_fn' argument required"):
        tf.cond(True, lambda: 1)
    with pytest.raises(ValueError, match="scalar"):
        tf.cond(tf.constant([True, False]), lambda: 1, lambda: 2)
    three = tf.case([(tf.constant(False), lambda: tf.constant(1))], default=lambda: tf.constant(3))
    assert int(three) == 3
    first = tf.case([(tf.constant(True), lambda: 1), (tf.constant(True), lambda: 2)])
    assert first == 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="None of conditions"):
        tf.case([(tf.constant(False), lambda: 1)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="exclusive"):
        tf.case([(True, lambda: 1), (True, lambda: 2)], exclusive=True)
    branches = [lambda: tf.constant(10), lambda: tf.constant(20)]
    assert int(tf.switch_case(tf.constant(0), branches)) == 10
    assert int(tf.switch_case(tf.constant(7), branches)) == 20  # Out of range: the last.
    assert int(tf.switch_case(-1, branches, default=lambda: tf.constant(0))) == 0
    assert tf.switch_case(1, {0: lambda: "a", 1: lambda: "b"}) == "b"
    with pytest.raises(TypeError, match="int32 or int64 scalar"):
        tf.switch_case(tf.constant(1.), branches)


def test_while_loop_structures_and_maximum_iterations():
    i, total = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0))
    assert (int(i), int(total)) == (5, 10) and i.dtype == tf.int32
    assert isinstance(tf.while_loop(lambda i, j: i < 2, lambda i, j: (i + 1, j), [0, 1]), tuple)
    assert int(tf.while_loop(lambda i: True, lambda i: i + 1, [tf.constant(0)],
                             maximum_iterations=3)[0]) == 3
    assert int(tf.while_loop(lambda i: i < 3, lambda i: i + 1, tf.constant(0))) == 3
    state = tf.while_loop(lambda d: d["a"] < 3, lambda d: {"a": d["a"] + 1},
                          [{"a": tf.constant(0)}])
    assert int(state[0]["a"]) == 3
    with pytest.raises(ValueError, match="structure"):
        tf.while_loop(lambda i: i < 5, lambda i: (i + 1, 1), [0])
    with pytest.raises(TypeError, match="'cond' must be callable"):
        tf.while_loop(1, lambda i: i, [0])
    with pytest.raises(TypeError, match="keeps its dtype"):
        tf.while_loop(lambda i: i < 2, lambda i: tf.cast(i, tf.float32) + 1., [0])


def test_map_fn_scan_and_folds_as_tf():
    pairs = tf.map_fn(lambda t: (t[0] + t[1], t[0]), (tf.constant([1, 2]), tf.constant([3, 4])))
    assert [p.numpy().tolist() for p in pairs] == [[4, 6], [1, 2]]
    halves = tf.map_fn(lambda t: tf.cast(t, tf.float32) / 2, tf.constant([1, 2]),
                       fn_output_signature=tf.float32)
    assert halves.dtype == tf.float32 and halves.numpy().tolist() == [0.5, 1.0]
    empty = tf.map_fn(lambda t: t * 2, tf.zeros([0, 3]))
    assert empty.shape == (0,) and empty.dtype == tf.float32
    assert tf.map_fn(lambda t: t, tf.zeros([0]), fn_output_signature=tf.TensorSpec([2])).shape \
        == (0, 2)
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tf.map_fn(lambda t: t, tf.constant(1))
    elems = tf.constant([1, 2, 3, 4])
    assert tf.scan(lambda a, x: a + x, elems).numpy().tolist() == [1, 3, 6, 10]
    assert tf.scan(lambda a, x: a + x, elems, initializer=10).numpy().tolist() == [11, 13, 16, 20]
    assert tf.scan(lambda a, x: a + x, elems, reverse=True).numpy().tolist() == [10, 9, 7, 4]
    sums, products = tf.scan(lambda a, x: (a[0] + x, a[1] * x), tf.constant([1, 2, 3]),
                             initializer=(tf.constant(0), tf.constant(1)))
    assert sums.numpy().tolist() == [1, 3, 6] and products.numpy().tolist() == [1, 2, 6]
    assert int(tf.foldl(lambda a, x: a + x, tf.constant([1, 2, 3]))) == 6
    assert int(tf.foldr(lambda a, x: a - x, tf.constant([1, 2, 3]))) == 0
    assert int(tf.foldl(lambda a, x: a - x, tf.constant([1, 2, 3]), initializer=10)) == 4
    np.testing.assert_array_equal(tf.vectorized_map(lambda t: t * 2., tf.constant([[1., 2.]])),
                                  [[2., 4.]])


def test_gradients_flow_through_control_flow():
    x = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        squares = tf.map_fn(lambda v: v * v, x)
        _, loop_total = tf.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s * x),
                                      (0, tf.ones([3])))
        branch = tf.cond(tf.constant(True), lambda: tf.reduce_sum(x) * 3., lambda: x[0])
        folded = tf.foldl(lambda a, v: a + 2. * v, x, initializer=tf.constant(0.))
        loss = tf.reduce_sum(squares) + tf.reduce_sum(loop_total) + branch + folded
    expected = 2 * np.array([1., 2., 3.]) * 2 + 3. + 2.
    np.testing.assert_allclose(tape.gradient(loss, x), expected, rtol=1e-6)


def test_control_flow_inside_tf_function_is_right_compiled_or_eager():
    @tf.function
    def branchy(x):
        return tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2., lambda: x - 1.)

    results = [float(branchy(tf.constant([v]))[0]) for v in (1., -1., 1., -1.)]
    assert results == [2., -2., 2., -2.]
    assert "bool()" in branchy.eager_reasons()[0]  # A traced predicate keeps it eager.

    @tf.function
    def mapped(x):
        return tf.map_fn(lambda row: tf.reduce_sum(row), x)

    x = tf.constant([[1., 2.], [3., 4.]])
    for _ in range(3):
        np.testing.assert_array_equal(mapped(x), [3., 7.])
    assert mapped.eager_reasons() == [] and len(mapped.plan_sources()) == 1
    np.testing.assert_array_equal(mapped(x * 2.), [6., 14.])  # The plan, new values.

    @tf.function
    def counted(x):
        return tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + x), (0, x))[1]

    for _ in range(3):
        counted(tf.constant(1.))
    assert counted.eager_reasons() == [] and float(counted(tf.constant(2.))) == 8.


def test_map_fn_on_keras_inputs_builds_a_model():
    inputs = tf.keras.Input((3,))
    model = tf.keras.Model(inputs, tf.map_fn(lambda row: row * 2., inputs))
    np.testing.assert_array_equal(model(tf.ones([2, 3])), np.full([2, 3], 2.))


# -- graph-era helpers -----------------------------------------------------------------------

def test_helpers_behave_as_tf_eagerly():
    x = tf.constant([[1., 2.]])
    assert tf.no_op() is None and tf.group(x, x) is None
    assert [t.numpy().tolist() for t in tf.tuple([x, x])] == [[[1., 2.]]] * 2
    with tf.control_dependencies([x]):
        pass
    assert tf.ensure_shape(tf.zeros([2, 4]), [None, 4]).shape == (2, 4)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"\[2,4\] is not compatible with expected shape \[\?,3\]"):
        tf.ensure_shape(tf.zeros([2, 4]), [None, 3])
    assert tf.guarantee_const(x) is x
    assert tf.get_static_value(tf.constant(3)) == 3
    assert tf.get_static_value([1, 2]) == [1, 2]
    assert tf.get_static_value(tf.Variable(1.)) is None  # Its value may change, as in TF.
    assert tf.timestamp().dtype == tf.float64
    assert tf.get_logger().name == "numpyflow"
    with pytest.raises(RuntimeError, match="Use tf.GradientTape instead"):
        tf.gradients(x, x)


def test_static_values_and_clock_inside_a_function():
    seen = []

    @tf.function
    def probe(x):
        seen.append(tf.get_static_value(x))
        return x + tf.cast(tf.timestamp(), tf.float32) * 0.

    for _ in range(3):
        probe(tf.constant(1.))
    assert seen[0] is None
    assert "clock" in probe.eager_reasons()[0]


def test_init_scope_stops_tape_recording():
    x = tf.Variable(2.)
    with tf.GradientTape() as tape:
        with tf.init_scope():
            unrecorded = x * 3.
        recorded = x * 3.
        total = unrecorded + recorded
    assert tape.gradient(total, x).numpy() == 3.


def test_variable_enums_and_initializers():
    assert tf.VariableAggregation.MEAN.value == 2
    assert tf.VariableSynchronization.ON_READ.value == 3
    np.testing.assert_array_equal(tf.constant_initializer(2.)([2]), [2., 2.])
    np.testing.assert_array_equal(tf.zeros_initializer()([2]), [0., 0.])
    np.testing.assert_array_equal(tf.ones_initializer()([2]), [1., 1.])
    normal = tf.random_normal_initializer(seed=1)([2000]).numpy()
    assert abs(normal.std() - 0.05) < 0.005
    uniform = tf.random_uniform_initializer(seed=1)([2000]).numpy()
    assert uniform.min() >= -0.05 and uniform.max() < 0.05
    layer = tf.keras.layers.Dense(2, kernel_initializer=tf.constant_initializer(0.5))
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel, np.full([3, 2], 0.5))


# -- tf.custom_gradient ----------------------------------------------------------------------

def test_custom_gradient_replaces_the_gradient():
    @tf.custom_gradient
    def scaled(x):
        return x * 2., lambda dy: dy * 3.

    x = tf.constant(1.)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    assert float(y) == 2. and float(tape.gradient(y, x)) == 3.
    assert float(scaled(x)) == 2.  # Without a tape, just the function.


def test_custom_gradient_with_variables_and_several_outputs():
    v = tf.Variable(2.)
    x = tf.constant(1.)

    @tf.custom_gradient
    def uses_variable(x):
        def grad(dy, variables=None):
            return dy * 3., [dy * 5. for _ in variables]
        return x * v, grad

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = uses_variable(x)
    assert [float(g) for g in tape.gradient(y, [x, v])] == [3., 5.]

    @tf.custom_gradient
    def forgets_variables(x):
        return x * v, lambda dy: dy

    with tf.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(TypeError, match="must accept keyword argument 'variables'"):
            forgets_variables(x)

    @tf.custom_gradient
    def two_outputs(a, b):
        return (a * b, a + b), lambda d1, d2: (d1 + d2, d1 - d2)

    with tf.GradientTape() as tape:
        tape.watch(x)
        first, second = two_outputs(x, tf.constant(2.))
        z = first * 10. + second
    assert float(tape.gradient(z, x)) == 11.  # (10 + 1), as TF.


def test_custom_gradient_inside_a_function_and_nested_tapes():
    @tf.custom_gradient
    def cube_with_rule(x):
        return x ** 3, lambda dy: dy * 3. * x * x

    @tf.function
    def forward(x):
        return cube_with_rule(x) + 1.

    x = tf.constant(2.)
    for _ in range(3):
        assert float(forward(x)) == 9.
    assert forward.eager_reasons() == []
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = cube_with_rule(x)
        dy = inner.gradient(y, x)
    assert float(dy) == 12. and float(outer.gradient(dy, x)) == 12.  # d(3x^2)/dx


def test_grad_pass_through_and_recompute_grad():
    x = tf.constant(1.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.grad_pass_through(tf.round)(x)
    assert float(y) == 2. and float(tape.gradient(y, x)) == 1.
    square = tf.recompute_grad(lambda t: t * t)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = square(x)
    assert float(tape.gradient(y, x)) == 3.


# -- tf.Module -------------------------------------------------------------------------------

class Block(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(1.0, name="w")
        self.items = [tf.Variable(2.0, trainable=False), {"k": tf.Variable(3.0)}, 5, "text"]
        self.inner = tf.Module(name="inner")
        self.inner.v = tf.Variable(4.0, name="v")
        self.same = self.w  # Reached twice, listed once.

    @tf.Module.with_name_scope
    def scope_inside(self):
        with tf.name_scope("op") as scope:
            return scope


def test_module_finds_variables_and_submodules_as_tf():
    block = Block()
    assert block.name == "block" and block.name_scope.name == "block/"
    assert block.scope_inside() == "block/op/"
    assert type("HTTPServerModule", (tf.Module,), {})().name == "http_server_module"
    # Own attributes in sorted order (items, same/w), then submodules: TF's order.
    assert [float(v) for v in block.variables] == [2., 3., 1., 4.]
    assert [float(v) for v in block.trainable_variables] == [3., 1., 4.]
    assert [float(v) for v in block.non_trainable_variables] == [2.]
    assert block.submodules == (block.inner,)
    with tf.name_scope("outer"):
        assert tf.Module(name="m").name_scope.name == "outer/m/"
    with pytest.raises(ValueError, match="not a valid module name"):
        tf.Module(name="a b")


def test_module_variables_include_keras_layers_and_checkpoint(tmp_path):
    block = Block()
    block.dense = tf.keras.layers.Dense(2)
    block.dense.build((None, 3))
    assert len(block.trainable_variables) == 5
    path = tf.train.Checkpoint(model=block).save(os.fspath(tmp_path / "ckpt"))
    fresh = Block()
    fresh.dense = tf.keras.layers.Dense(2)
    fresh.dense.build((None, 3))
    fresh.w.assign(9.)
    fresh.inner.v.assign(0.)
    tf.train.Checkpoint(model=fresh).restore(path).assert_consumed()
    assert float(fresh.w) == 1. and float(fresh.inner.v) == 4.
    np.testing.assert_array_equal(fresh.dense.kernel, block.dense.kernel)


# -- tf.random -------------------------------------------------------------------------------

def test_generator_draws_repeat_per_seed_and_advance():
    first = tf.random.Generator.from_seed(1)
    second = tf.random.Generator.from_seed(1)
    assert first.state.shape == (3,) and first.state.dtype == tf.int64 and first.algorithm == 1
    a, b = first.normal([2]), first.normal([2])
    np.testing.assert_array_equal(a, second.normal([2]))
    assert not np.array_equal(a, b)
    ints = first.uniform([50], minval=0, maxval=10, dtype=tf.int32)
    assert ints.dtype == tf.int32 and 0 <= ints.numpy().min() and ints.numpy().max() < 10
    assert first.uniform_full_int([2], dtype=tf.int64).dtype == tf.int64
    assert first.truncated_normal([1000]).numpy().max() <= 2.
    assert first.binomial([3], counts=5., probs=0.5).dtype == tf.int32
    seeds = first.make_seeds(3)
    assert seeds.shape == (2, 3) and seeds.dtype == tf.int64
    children = first.split(2)
    assert not np.array_equal(children[0].normal([4]), children[1].normal([4]))
    with pytest.raises(ValueError, match="minval and maxval must be both"):
        first.uniform([3], dtype=tf.int32)
    normal = tf.random.Generator.from_non_deterministic_state().normal([20000], 1., 2.).numpy()
    assert abs(normal.mean() - 1.) < 0.05 and abs(normal.std() - 2.) < 0.05


def test_generator_in_a_function_compiles_and_draws_as_eagerly():
    compiled_generator = tf.random.Generator.from_seed(7)
    eager_generator = tf.random.Generator.from_seed(7)

    @tf.function
    def draw():
        return compiled_generator.uniform([3])

    draws = [draw().numpy() for _ in range(4)]
    assert draw.eager_reasons() == [] and len(draw.plan_sources()) == 1
    for drawn in draws:
        np.testing.assert_array_equal(drawn, eager_generator.uniform([3]))


def test_global_generator_and_stateful_samplers():
    generator = tf.random.Generator.from_seed(3)
    tf.random.set_global_generator(generator)
    assert tf.random.get_global_generator() is generator
    with pytest.raises(TypeError, match="Generator"):
        tf.random.set_global_generator(3)
    samples = tf.random.categorical(tf.math.log([[0.5, 0.5], [1e-9, 1.]]), 200, seed=1)
    assert samples.shape == (2, 200) and samples.dtype == tf.int64
    assert samples.numpy()[1].min() == 1
    gamma = tf.random.gamma([5000], alpha=[1., 4.])
    assert gamma.shape == (5000, 2)
    np.testing.assert_allclose(gamma.numpy().mean(axis=0), [1., 4.], rtol=0.1)
    poisson = tf.random.poisson([5000], lam=[1., 3.])
    assert poisson.dtype == tf.float32 and poisson.shape == (5000, 2)
    np.testing.assert_allclose(poisson.numpy().mean(axis=0), [1., 3.], rtol=0.1)
    assert tf.random.poisson([3], lam=2., dtype=tf.int32).dtype == tf.int32
    np.testing.assert_array_equal(tf.random.fold_in([1, 2], 3), [1105988140, 3])  # TF's
    np.testing.assert_array_equal(tf.random.split([1, 2], 1), [[1105988140, 1738052849]])


def test_stateful_samplers_draw_anew_in_compiled_functions():
    @tf.function
    def draw():
        return tf.random.gamma([4], alpha=2.)

    draws = [draw().numpy() for _ in range(4)]
    assert draw.eager_reasons() == []
    assert not np.array_equal(draws[2], draws[3])


# -- the docstring examples ------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "numpyflow.config", "numpyflow.nest", "numpyflow.init_ops",
    "numpyflow.framework.custom_gradient", "numpyflow.framework.device",
    "numpyflow.framework.execution", "numpyflow.framework.module",
    "numpyflow.ops.control_flow_ops", "numpyflow.ops.stateful_random_ops"])
def test_docstring_examples(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_custom_gradient_counts_number_arguments_as_tf():
    @tf.custom_gradient
    def scale(x, factor):
        return x * factor, lambda dy: (dy * factor, None)

    x = tf.constant(1.)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scale(x, 3.)
    assert float(tape.gradient(y, x)) == 3.


def test_nest_takes_tensor_shapes_as_leaves():
    shape = tf.TensorShape([2, 3])
    assert tf.nest.flatten([shape]) == [shape] and not tf.nest.is_nested(shape)


def test_generator_state_is_checkpointed(tmp_path):
    generator = tf.random.Generator.from_seed(5)
    path = tf.train.Checkpoint(generator=generator).save(os.fspath(tmp_path / "ckpt"))
    expected = generator.normal([3]).numpy()
    restored = tf.random.Generator.from_seed(99)
    tf.train.Checkpoint(generator=restored).restore(path).assert_consumed()
    np.testing.assert_array_equal(restored.normal([3]), expected)


def test_tensor_float_32_setting_is_recorded(monkeypatch):
    from numpyflow import config
    monkeypatch.setattr(config._settings, "tensor_float_32", True)
    assert tf.config.experimental.tensor_float_32_execution_enabled() is True
    tf.config.experimental.enable_tensor_float_32_execution(False)
    assert tf.config.experimental.tensor_float_32_execution_enabled() is False


def test_scan_and_folds_over_no_elements():
    empty = tf.zeros([0, 2])
    assert tf.scan(lambda a, x: a + x, empty, initializer=tf.zeros([2])).shape == (0, 2)
    np.testing.assert_array_equal(tf.foldl(lambda a, x: a + x, empty, initializer=tf.ones([2])),
                                  [1., 1.])
    with pytest.raises(ValueError, match="no initializer"):
        tf.foldr(lambda a, x: a + x, empty)


def test_custom_gradient_on_a_method():
    class Scaler:
        factor = 4.

        @tf.custom_gradient
        def __call__(self, x):
            return x * self.factor, lambda dy: dy * self.factor * 10.

    x = tf.constant(1.)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = Scaler()(x)
    assert float(y) == 4. and float(tape.gradient(y, x)) == 40.


# -- review fixes (session 7) ------------------------------------------------------------

def test_map_fn_python_outputs_take_the_signature_dtype_as_tf():
    floats = tf.constant([1., 2.])
    ones = tf.map_fn(lambda x: 1, floats)  # TF: the output signature defaults to elems'.
    assert ones.dtype == tf.float32 and ones.numpy().tolist() == [1., 1.]
    zeros = tf.map_fn(lambda x: 0, tf.constant([1, 2]), fn_output_signature=tf.int64)
    assert zeros.dtype == tf.int64
    with pytest.raises(TypeError, match="map_fn.*int32.*float32"):
        tf.map_fn(lambda x: x * 2, tf.constant([1, 2]), fn_output_signature=tf.float32)
    pairs = tf.map_fn(lambda x: (x, 1), floats, fn_output_signature=(tf.float32, tf.int64))
    assert [p.dtype for p in pairs] == [tf.float32, tf.int64]
    # A different structure than elems keeps fn's own dtypes (no default to apply).
    assert [p.dtype for p in tf.map_fn(lambda x: (x, 1), floats)] == [tf.float32, tf.int32]


def test_grad_pass_through_passes_keywords_and_skips_variables_as_tf():
    x = tf.constant(1.3)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.grad_pass_through(tf.round)(x, name="r")
    assert float(y) == 1. and float(tape.gradient(y, x)) == 1.
    v = tf.Variable(2.)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.grad_pass_through(lambda t: t * v)(x)
    grad_x, grad_v = tape.gradient(y, [x, v])
    assert float(grad_x) == 1. and grad_v is None
    # TF's docstring example: the gradient passes through an assignment.
    target, z = tf.Variable(1.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        y = tf.grad_pass_through(target.assign)(z ** 2)
    assert float(y) == 9. and float(tape.gradient(y, z)) == 6.


def test_custom_gradient_python_number_gradients_keep_the_input_dtype():
    @tf.custom_gradient
    def scaled(x):
        return x * 2., lambda dy: 5.

    x = tf.constant(1., tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    grad = tape.gradient(y, x)
    assert grad.dtype == tf.float64 and float(grad) == 5.


def test_while_loop_with_no_loop_vars_says_so():
    with pytest.raises(ValueError, match="'loop_vars' must be provided"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [])


def test_memory_info_of_the_cpu_is_zero_as_tf():
    assert tf.config.experimental.get_memory_info("CPU:0") == {"current": 0, "peak": 0}
    assert tf.config.experimental.reset_memory_stats("/device:CPU:0") is None
    with pytest.raises(ValueError, match="No matching devices found for 'GPU:0'"):
        tf.config.experimental.get_memory_info("GPU:0")
    with pytest.raises(ValueError, match="No matching devices found"):
        tf.config.experimental.reset_memory_stats("GPU:0")


def test_generator_uniform_full_int_refuses_float_dtypes():
    generator = tf.random.Generator.from_seed(1)
    with pytest.raises(ValueError, match="uniform_full_int.*int32, int64, uint32, uint64.*float32"):
        generator.uniform_full_int([2], dtype=tf.float32)


def test_map_fn_refuses_numbers_not_of_the_signature_dtype():
    with pytest.raises(TypeError, match="map_fn.*1.5.*int32"):
        tf.map_fn(lambda x: 1.5, tf.constant([1., 2.]), fn_output_signature=tf.int32)
    # Without a signature, a number that is not of elems' dtype keeps its own, as before.
    assert tf.map_fn(lambda x: 1.5, tf.constant([1, 2])).dtype == tf.float32


def test_switch_case_takes_pairs_in_any_order_as_tf():
    branches = [(1, lambda: tf.constant(1)), (0, lambda: tf.constant(0))]
    assert int(tf.switch_case(tf.constant(0), branches)) == 0
    with pytest.raises(ValueError, match="branch keys must be 0..1"):
        tf.switch_case(tf.constant(0), [(0, lambda: 1), (0, lambda: 2)])


def test_scan_numbers_take_the_accumulator_dtype_and_folds_give_tensors():
    ones = tf.scan(lambda a, x: 1, tf.constant([1., 2.]), initializer=0.)
    assert ones.dtype == tf.float32 and ones.numpy().tolist() == [1., 1.]
    folded = tf.foldl(lambda a, x: 1, tf.constant([1., 2.]), initializer=0.)
    assert isinstance(folded, tf.Tensor) and int(folded) == 1  # TF: a tensor (int32).
    # Leaves that are no numbers stay as they are.
    tagged = tf.scan(lambda a, x: (a[0] + x, a[1]), tf.constant([1., 2.]),
                     initializer=(tf.constant(0.), 1))
    assert tagged[0].numpy().tolist() == [1., 3.] and tagged[1].dtype == tf.int32


def test_generator_key_is_the_last_state_word_as_tf():
    generator = tf.random.Generator.from_state([4, 5, 6], "philox")
    assert generator.key.dtype == tf.int64 and generator.key.shape == () and int(generator.key) == 6


def test_set_visible_devices_refuses_devices_of_another_type_as_tf():
    cpu = tf.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="Unrecognized device.*device_type='GPU'"):
        tf.config.set_visible_devices([cpu], "GPU")


def test_nest_flattens_dict_views_in_their_order_as_tf():
    d = {"b": 1, "a": 2}
    assert tf.nest.is_nested(d.values())
    assert tf.nest.flatten(d.keys()) == ["b", "a"] and tf.nest.flatten(d.values()) == [1, 2]
    assert tf.nest.flatten(d.items()) == ["b", 1, "a", 2]
    assert tf.nest.map_structure(lambda x: x * 10, d.values()) == [10, 20]
