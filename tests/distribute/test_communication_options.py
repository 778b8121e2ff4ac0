"""`tf.distribute.experimental.CommunicationOptions` / `CommunicationImplementation` and
how MultiWorkerMirroredStrategy uses them (TF 2.21's argument checks and messages)."""

import pytest

import numpyflow as tf
from numpyflow.distribute import communicator as communicator_module

experimental = tf.distribute.experimental


def test_defaults_and_enum_as_in_tf():
    options = experimental.CommunicationOptions()
    assert (options.bytes_per_pack, options.timeout_seconds, options.implementation) == \
        (0, None, experimental.CommunicationImplementation.AUTO)
    assert [i.value for i in experimental.CommunicationImplementation] == \
        ["AUTO", "RING", "NCCL"]
    assert experimental.CollectiveCommunication is experimental.CommunicationImplementation
    ring = experimental.CommunicationOptions(implementation="ring")
    assert ring.implementation is experimental.CommunicationImplementation.RING


def test_invalid_options_are_refused_with_tf_messages():
    with pytest.raises(ValueError, match="Argument `bytes_per_pack` must be >=0, Received -1"):
        experimental.CommunicationOptions(bytes_per_pack=-1)
    with pytest.raises(ValueError, match="must be instance of "
                       "`tf.distribute.experimental.CommunicationImplementation`"):
        experimental.CommunicationOptions(implementation=3)
    with pytest.raises(ValueError, match="'FOO' is not a valid CommunicationImplementation"):
        experimental.CommunicationOptions(implementation="foo")
    with pytest.raises(ValueError, match=r"timeout_seconds=-1"):
        experimental.CommunicationOptions(timeout_seconds=-1)
    with pytest.raises(ValueError, match=r"bytes_per_pack=1.5"):
        experimental.CommunicationOptions(bytes_per_pack=1.5)


def test_merge_takes_the_non_default_fields():
    base = experimental.CommunicationOptions(timeout_seconds=10)
    merged = base.merge(experimental.CommunicationOptions(bytes_per_pack=64))
    assert (merged.bytes_per_pack, merged.timeout_seconds) == (64, 10)
    assert base.bytes_per_pack == 0  # A copy.


def test_strategy_keeps_the_options_in_one_process():
    options = experimental.CommunicationOptions(bytes_per_pack=1024, timeout_seconds=5,
                                                implementation="RING")
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    assert strategy.num_replicas_in_sync == 1
    assert strategy._communication_options is options


def test_communicator_and_options_together_are_refused():
    from tests.distribute.fakes import MirrorCommunicator
    with pytest.raises(ValueError, match="either `communicator` or `communication_options`"):
        tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=experimental.CommunicationOptions(),
            communicator=MirrorCommunicator())


def test_default_timeout_reads_the_environment(monkeypatch):
    monkeypatch.delenv("NUMPYFLOW_COLLECTIVE_TIMEOUT", raising=False)
    assert communicator_module.default_timeout() == 300.0
    monkeypatch.setenv("NUMPYFLOW_COLLECTIVE_TIMEOUT", "12.5")
    assert communicator_module.default_timeout() == 12.5
    monkeypatch.setenv("NUMPYFLOW_COLLECTIVE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="NUMPYFLOW_COLLECTIVE_TIMEOUT must be a number of "
                       "seconds; received 'soon'"):
        communicator_module.default_timeout()
