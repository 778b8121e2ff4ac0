"""The custom-object registry and Keras 3's config format (`keras.saving`)."""

import json
import os
import sys
import threading
import warnings

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import (
    activations, initializers, layers, losses, metrics, optimizers, saving)
from numpyflow.keras.optimizers import schedules
from numpyflow.keras.saving import object_registration

serialize = saving.serialize_keras_object
deserialize = saving.deserialize_keras_object

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures", "keras3")


@pytest.fixture(autouse=True)
def clean_registry():
    """Each test registers its own custom objects; the registry is restored afterwards."""
    objects = dict(object_registration._GLOBAL_CUSTOM_OBJECTS)
    names = dict(object_registration._GLOBAL_CUSTOM_NAMES)
    yield
    object_registration._GLOBAL_CUSTOM_OBJECTS.clear()
    object_registration._GLOBAL_CUSTOM_OBJECTS.update(objects)
    object_registration._GLOBAL_CUSTOM_NAMES.clear()
    object_registration._GLOBAL_CUSTOM_NAMES.update(names)


def json_round_trip(config):
    """The config as Keras would read it back from a config.json."""
    return json.loads(json.dumps(config))


def keras3_ref(module, class_name, config, registered_name=None):
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


# -- the Keras 3 form of each module's objects -----------------------------------------------

@pytest.mark.parametrize("obj, module", [
    (initializers.GlorotUniform(seed=3), "keras.initializers"),
    (initializers.VarianceScaling(2., "fan_avg", "uniform"), "keras.initializers"),
    (initializers.Constant(1.5), "keras.initializers"),
    (losses.SparseCategoricalCrossentropy(from_logits=True), "keras.losses"),
    (losses.Huber(delta=2.), "keras.losses"),
    (metrics.SparseCategoricalAccuracy(name="acc"), "keras.metrics"),
    (metrics.MeanSquaredError(), "keras.metrics"),
    (optimizers.Adam(0.002, amsgrad=True), "keras.optimizers"),
    (optimizers.SGD(0.1, momentum=0.9), "keras.optimizers"),
    (schedules.ExponentialDecay(0.1, 100, 0.9), "keras.optimizers.schedules"),
    (schedules.PiecewiseConstantDecay([10, 20], [1., .5, .1]), "keras.optimizers.schedules"),
])
def test_builtin_objects_round_trip_in_keras3_form(obj, module):
    config = json_round_trip(serialize(obj))
    assert config == keras3_ref(module, type(obj).__name__, config["config"])
    clone = deserialize(config)
    assert type(clone) is type(obj)
    assert json_round_trip(clone.get_config()) == config["config"]


def test_regularizers_and_constraints_use_keras_module_names():
    regularizers = pytest.importorskip("numpyflow.keras.regularizers")
    config = serialize(regularizers.L2(0.01))
    assert (config["module"], config["class_name"]) == ("keras.regularizers", "L2")
    assert type(deserialize(config)) is regularizers.L2
    constraints = pytest.importorskip("numpyflow.keras.constraints")
    config = serialize(constraints.MaxNorm(2))
    assert (config["module"], config["class_name"]) == ("keras.constraints", "MaxNorm")
    assert type(deserialize(config)) is constraints.MaxNorm


def test_functions_are_written_as_keras3_writes_them():
    for fn, module_get in ((losses.mean_squared_error, losses.get),
                           (metrics.accuracy, metrics.get), (activations.relu, activations.get)):
        config = serialize(fn)
        assert config == {"module": "builtins", "class_name": "function",
                          "config": fn.__name__, "registered_name": "function"}
        assert deserialize(config) is fn
        assert module_get(config) is fn


def test_optimizer_with_schedule_nests_the_schedule_in_keras3_form():
    optimizer = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 100, 0.9))
    config = json_round_trip(optimizers.serialize(optimizer))
    assert config["config"]["learning_rate"]["module"] == "keras.optimizers.schedules"
    clone = optimizers.deserialize(config)
    assert type(clone) is optimizers.SGD
    assert json_round_trip(clone.get_config()) == config["config"]


def test_module_lookups_accept_keras3_dicts_and_old_dicts():
    assert isinstance(initializers.get(keras3_ref("keras.initializers", "HeNormal",
                                                  {"seed": 1})), initializers.HeNormal)
    assert isinstance(initializers.get({"class_name": "Zeros", "config": {}}), initializers.Zeros)
    assert isinstance(optimizers.get({"class_name": "adam", "config": {}}), optimizers.Adam)
    assert isinstance(metrics.get(keras3_ref("keras.metrics", "BinaryAccuracy",
                                             {"threshold": 0.7})), metrics.BinaryAccuracy)
    # The same class name in two modules: the module decides.
    assert isinstance(losses.deserialize(keras3_ref("keras.losses", "MeanSquaredError", {})),
                      losses.MeanSquaredError)
    assert isinstance(metrics.deserialize(keras3_ref("keras.metrics", "MeanSquaredError", {})),
                      metrics.MeanSquaredError)


def test_plain_values_tuples_arrays_and_tensors():
    assert serialize({"a": (1, 2), "b": [None, "x"]}) == {"a": [1, 2], "b": [None, "x"]}
    assert serialize(np.float32(0.5)) == 0.5
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    config = json_round_trip(serialize(array))
    assert config["class_name"] == "__numpy__"
    restored = deserialize(config)
    assert restored.dtype == np.int32 and np.array_equal(restored, array)
    tensor = deserialize(json_round_trip(serialize(tf.constant([1.5, 2.5]))))
    assert tensor.dtype == tf.float32 and tensor.numpy().tolist() == [1.5, 2.5]
    assert serialize(tf.TensorShape([None, 3])) == [None, 3]
    assert deserialize(serialize(slice(1, None, 2))) == slice(1, None, 2)
    assert deserialize(serialize(b"abc")) == b"abc"
    # Left for the functional model's `from_config`, which knows the layers it names.
    reference = {"class_name": "__keras_tensor__",
                 "config": {"shape": [None, 4], "dtype": "float32",
                            "keras_history": ["input_layer", 0, 0]}}
    assert deserialize(reference) == reference


# -- layers ----------------------------------------------------------------------------------

def test_built_layer_has_build_config_and_is_rebuilt(fresh_names):
    dense = layers.Dense(3, activation="relu")
    dense(tf.ones((2, 4)))
    config = json_round_trip(layers.serialize(dense))
    assert config["module"] == "keras.layers" and config["class_name"] == "Dense"
    assert config["registered_name"] is None
    assert config["build_config"] == {"input_shape": [2, 4]}
    assert config["config"]["activation"] == "relu"
    assert config["config"]["kernel_initializer"] == keras3_ref(
        "keras.initializers", "GlorotUniform", {"seed": None})
    clone = layers.deserialize(config)
    assert clone.built and [tuple(w.shape) for w in clone.weights] == [(4, 3), (3,)]
    assert json_round_trip(clone.get_config()) == config["config"]


def test_unbuilt_layer_has_no_build_config():
    config = layers.serialize(layers.Dense(3))
    assert "build_config" not in config
    assert not layers.deserialize(config).built


def test_build_config_of_a_multi_input_layer():
    concatenate = layers.Concatenate()
    concatenate.build([(None, 3), (None, 4)])
    config = json_round_trip(layers.serialize(concatenate))
    assert config["build_config"] == {"input_shape": [[None, 3], [None, 4]]}
    assert layers.deserialize(config).built


def test_build_config_records_the_outermost_build_only():
    class Outer(layers.Dense):
        def build(self, input_shape):
            super().build((None, 7))

    layer = Outer(2)
    layer.build((None, 5))
    assert layer.get_build_config() == {"input_shape": [None, 5]}


def test_tuples_become_lists_and_layers_take_them_back():
    conv = layers.Conv2D(4, (3, 3), strides=(2, 2))
    config = json_round_trip(layers.serialize(conv))
    assert config["config"]["kernel_size"] == [3, 3]
    clone = layers.deserialize(config)
    assert tuple(clone.kernel_size) == (3, 3) and tuple(clone.strides) == (2, 2)


def test_models_are_written_with_keras_module_names(fresh_names):
    model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(2)])
    config = serialize(model)
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        "keras", "Sequential", None)
    functional = getattr(tf.keras.models, "Functional", None)
    if functional is not None:
        assert saving.serialization_lib._public_name(functional) == (
            "keras.src.models.functional", "Functional")


def test_layers_get_and_deserialize_errors():
    assert isinstance(layers.get("Flatten"), layers.Flatten)
    dense = layers.Dense(2)
    assert layers.get(dense) is dense
    with pytest.raises(ValueError, match="does not describe a Layer"):
        layers.deserialize(keras3_ref("keras.initializers", "Zeros", {}))
    with pytest.raises(ValueError, match="Could not interpret layer identifier"):
        layers.get(3)
    with pytest.raises(ValueError, match="Could not locate layer class 'NoSuchLayer'"):
        layers.get("NoSuchLayer")


# -- registration, custom objects and scopes --------------------------------------------------

class Scale(layers.Layer):
    """A custom layer: multiplies by a constant."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_register_keras_serializable_names_and_lookups():
    registered = saving.register_keras_serializable(package="MyPkg")(Scale)
    assert registered is Scale
    assert saving.get_registered_name(Scale) == "MyPkg>Scale"
    assert saving.get_registered_object("MyPkg>Scale") is Scale
    assert saving.get_custom_objects()["MyPkg>Scale"] is Scale
    assert tf.keras.utils.get_registered_name(Scale) == "MyPkg>Scale"  # The keras.utils alias.
    assert saving.get_registered_name(initializers.Zeros) == "Zeros"  # Unregistered: __name__.

    @saving.register_keras_serializable("MyPkg", name="triple")
    def triple(x):
        return 3 * x

    assert saving.get_registered_name(triple) == "MyPkg>triple"


def test_registered_custom_layer_round_trips_without_custom_objects():
    saving.register_keras_serializable(package="MyPkg")(Scale)
    layer = Scale(factor=3.0, name="scale")
    config = json_round_trip(serialize(layer))
    assert config["registered_name"] == "MyPkg>Scale"
    assert config["module"] == __name__ and config["class_name"] == "Scale"
    clone = deserialize(config)
    assert type(clone) is Scale and clone.factor == 3.0 and clone.name == "scale"
    assert type(layers.deserialize(config)) is Scale


def test_registered_custom_function_round_trips_inside_a_layer_config():
    @saving.register_keras_serializable("MyPkg")
    def halve(x):
        return x / 2

    dense = layers.Dense(2, activation=halve)
    config = json_round_trip(layers.serialize(dense))
    assert config["config"]["activation"]["registered_name"] == "MyPkg>halve"
    assert layers.deserialize(config).activation is halve
    # Keras writes registered functions under their bare name; the registry still finds them.
    keras_form = {"module": "builtins", "class_name": "function", "config": "halve",
                  "registered_name": "function"}
    assert deserialize(keras_form) is halve


def test_unregistered_custom_class_needs_custom_objects():
    config = json_round_trip(serialize(Scale(name="s")))
    assert config["registered_name"] == "Scale" and config["module"] == __name__
    with pytest.raises(ValueError, match=r"Could not locate class 'Scale'.*custom_objects.*"
                                         r"register_keras_serializable"):
        deserialize(config)
    assert type(deserialize(config, custom_objects={"Scale": Scale})) is Scale
    assert type(layers.deserialize(config, custom_objects={"Scale": Scale})) is Scale
    with saving.custom_object_scope({"Scale": Scale}):
        assert type(deserialize(config)) is Scale
    with pytest.raises(ValueError, match="Scale"):
        deserialize(config)  # The scope is over.


def test_custom_objects_reach_nested_configs():
    def my_init(shape, dtype=None):
        return tf.ones(shape, dtype=dtype)

    config = layers.serialize(layers.Dense(2, kernel_initializer="ones"))
    config["config"]["kernel_initializer"] = "my_init"
    with pytest.raises(ValueError, match="my_init"):
        layers.deserialize(config)
    dense = layers.deserialize(config, custom_objects={"my_init": my_init})
    assert dense.kernel_initializer is my_init


def test_custom_objects_come_before_the_registry_and_builtins():
    class MyZeros(initializers.Zeros):
        pass

    saving.register_keras_serializable("Other", name="Zeros")(initializers.Ones)
    config = keras3_ref("keras.initializers", "Zeros", {})
    assert type(deserialize(config)) is initializers.Zeros
    assert type(deserialize(config, custom_objects={"Zeros": MyZeros})) is MyZeros
    registered = keras3_ref("x", "Zeros", {}, registered_name="Other>Zeros")
    assert type(deserialize(registered)) is initializers.Ones


def test_nested_scopes_and_threads():
    def a(x):
        return x

    def b(x):
        return x

    with saving.CustomObjectScope({"f": a, "g": a}):
        with saving.custom_object_scope({"f": b}):
            assert saving.get_registered_object("f") is b
            assert saving.get_registered_object("g") is a
            seen = []
            thread = threading.Thread(target=lambda: seen.append(
                saving.get_registered_object("f")))
            thread.start()
            thread.join()
            assert seen == [None]  # Scopes belong to the thread that opened them.
        assert saving.get_registered_object("f") is a
    assert saving.get_registered_object("f") is None


def test_register_rejects_a_class_without_get_config():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(NoConfig)
    with pytest.raises(ValueError, match="package"):
        saving.register_keras_serializable(package="a>b")


# -- safety ------------------------------------------------------------------------------------

def test_unknown_classes_raise_and_modules_are_never_imported():
    config = keras3_ref("evil_pkg_never_imported.layers", "Backdoor", {})
    with pytest.raises(ValueError, match=r"'Backdoor'.*never imports modules"):
        deserialize(config)
    assert "evil_pkg_never_imported" not in sys.modules
    with pytest.raises(ValueError, match="numpyflow has no class of that name in keras.layers"):
        deserialize(keras3_ref("keras.layers", "Conv3DTransposeXL", {}))
    # A public name of a module that is not a class of it is not a way in either.
    with pytest.raises(ValueError, match="'np'"):
        deserialize(keras3_ref("keras.metrics", "np", {}))
    with pytest.raises(ValueError, match="'system'"):
        deserialize({"module": "os", "class_name": "function", "config": "system",
                     "registered_name": "function"})


def test_lambdas_are_refused_both_ways():
    with pytest.raises(ValueError, match="lambda"):
        serialize(lambda x: x)
    config = {"class_name": "__lambda__", "config": {"value": "bytecode"}}
    with pytest.raises(ValueError, match="arbitrary code execution"):
        deserialize(config)
    with pytest.raises(NotImplementedError, match="never runs code"):
        deserialize(config, safe_mode=False)


# -- configs written by Keras 3 -------------------------------------------------------------

# Dense(64, activation="relu", kernel_regularizer=L2(0.01)) called on Input((784,)), as
# `keras.saving.serialize_keras_object` writes it (Keras 3.12, written out by hand).
KERAS3_DENSE = {
    "module": "keras.layers",
    "class_name": "Dense",
    "config": {
        "name": "dense",
        "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float32"}, "registered_name": None},
        "units": 64,
        "activation": "relu",
        "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                               "config": {"seed": None, "input_axes": None,
                                          "output_axes": None},
                               "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                             "config": {}, "registered_name": None},
        "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2",
                               "config": {"l2": 0.01}, "registered_name": None},
        "bias_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
        "lora_rank": None,
        "quantization_config": None,
    },
    "registered_name": None,
    "build_config": {"input_shape": [None, 784]},
}


def test_keras3_written_dense_config_loads():
    dense = deserialize(KERAS3_DENSE)
    assert isinstance(dense, layers.Dense)
    assert dense.units == 64 and dense.activation is activations.relu
    assert dense.dtype == "float32" and dense.name == "dense"
    assert isinstance(dense.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(dense.bias_initializer, initializers.Zeros)
    assert type(dense.kernel_regularizer).__name__ == "L2"
    assert dense.built and tuple(dense.kernel.shape) == (784, 64)
    assert dense(tf.ones((2, 784))).shape == (2, 64)
    # Written back, it is Keras 3's form again.
    config = json_round_trip(layers.serialize(dense))
    assert {key: config[key] for key in ("module", "class_name", "registered_name",
                                         "build_config")} == {
        "module": "keras.layers", "class_name": "Dense", "registered_name": None,
        "build_config": {"input_shape": [None, 784]}}


def test_keras3_arguments_that_numpyflow_lacks_load_only_when_inert():
    config = json.loads(json.dumps(KERAS3_DENSE))
    config["config"]["lora_rank"] = 4
    with pytest.raises(TypeError, match="lora_rank"):
        deserialize(config)
    config["config"]["lora_rank"] = None
    config["config"]["dtype"]["config"]["name"] = "mixed_float16"
    with pytest.raises(NotImplementedError, match="mixed"):
        deserialize(config)


def test_keras3_written_compile_objects_load():
    adam = deserialize(keras3_ref("keras.optimizers", "Adam", {
        "name": "adam", "learning_rate": 0.001, "weight_decay": None, "clipnorm": None,
        "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False}))
    assert isinstance(adam, optimizers.Adam)
    loss = deserialize(keras3_ref("keras.losses", "SparseCategoricalCrossentropy", {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": True, "ignore_class": None}))
    assert isinstance(loss, losses.SparseCategoricalCrossentropy) and loss.get_config()[
        "from_logits"]
    metric = deserialize(keras3_ref("keras.metrics", "SparseCategoricalAccuracy",
                                    {"name": "acc", "dtype": "float32"}))
    assert isinstance(metric, metrics.SparseCategoricalAccuracy) and metric.name == "acc"
    # Keras's private module paths mean the public modules.
    assert isinstance(deserialize(keras3_ref("keras.src.losses.losses", "Huber", {})),
                      losses.Huber)


def test_older_class_name_config_form_loads():
    dense = layers.deserialize({"class_name": "Dense", "config": {"units": 3,
                                                                 "activation": "tanh"}})
    assert dense.units == 3 and dense.activation is activations.tanh
    assert isinstance(deserialize({"class_name": "Dropout", "config": {"rate": 0.2}}),
                      layers.Dropout)


# Layers whose Keras 3 config numpyflow cannot read yet, and why. Strict: the test fails
# once one loads, so that its entry is removed.
KNOWN_GAPS = {}


def _fixture_layers():
    path = os.path.join(FIXTURES, "layers_serialized.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        entries = sorted(json.load(f).items())
    return [pytest.param(name, config, marks=pytest.mark.xfail(strict=True,
                                                                 reason=KNOWN_GAPS[name]))
            if name in KNOWN_GAPS else (name, config) for name, config in entries]


@pytest.mark.parametrize("class_name, config", _fixture_layers())
def test_every_keras3_fixture_layer_config_loads(class_name, config):
    if getattr(layers, class_name, None) is None:
        pytest.skip(f"numpyflow has no layers.{class_name} yet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Nothing in Keras's config is dropped with a warning.
        layer = layers.deserialize(config)
    assert type(layer) is getattr(layers, class_name)
    assert layer.built or "build_config" not in config
    written = json_round_trip(layers.serialize(layer))
    for key in ("module", "class_name", "registered_name", "build_config"):
        assert written.get(key) == config.get(key), key


def _fixture_model_layers():
    """(model, class name, config) of each layer inside the Keras 3 model fixtures."""
    found = []
    for model_name in ("seed_mlp", "two_tower", "fmnist_cnn"):
        path = os.path.join(FIXTURES, f"{model_name}_serialized.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            stack = [json.load(f)]
        while stack:
            for config in stack.pop()["config"]["layers"]:
                if config["class_name"] in ("Sequential", "Functional"):
                    stack.append(config)
                else:
                    found.append((model_name, config["class_name"], config))
    return found


@pytest.mark.parametrize("model_name, class_name, config", _fixture_model_layers())
def test_every_layer_of_the_keras3_fixture_models_loads(model_name, class_name, config):
    if getattr(layers, class_name, None) is None:
        pytest.skip(f"numpyflow has no layers.{class_name} yet")
    layer = layers.deserialize(config)
    assert type(layer) is getattr(layers, class_name)
    assert layer.built or "build_config" not in config


def test_registered_function_in_a_loss_wrapper_config_is_json_ready():
    @saving.register_keras_serializable("MyPkg")
    def my_loss(y_true, y_pred):
        return y_pred - y_true

    config = json_round_trip(losses.serialize(losses.LossFunctionWrapper(my_loss, name="w")))
    assert config["config"]["fn"]["registered_name"] == "MyPkg>my_loss"
    assert losses.deserialize(config).fn is my_loss
