"""Two "hosts" on one machine: two network namespaces joined by a veth pair, each with its
own host name (a UTS namespace), and Open MPI's TCP transport between them.

mpirun runs in namespace A and starts its daemon for host B through a launch agent that
enters namespace B (standing in for ssh: `--prtemca plm_ssh_agent`); the ranks talk over
TCP on the veth pair only (`--mca btl tcp,self`, both interfaces restricted to its subnet).
Skipped, with the reason, where namespaces cannot be made (not root, no `ip`, no
CAP_SYS_ADMIN in a container).
"""

import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.distribute.mpi_launch import ROOT, WORKERS, mpirun_path, require_mpi

SUBNET = "10.213.77"


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def two_hosts(tmp_path):
    require_mpi()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        pytest.skip("`ip` (iproute2) or `unshare` (util-linux) is not installed")
    tag = f"nf{os.getpid() % 100000}"
    names = (f"{tag}a", f"{tag}b")
    made = []
    try:
        for name in names:
            result = _ip("netns", "add", name)
            if result.returncode != 0:
                pytest.skip(f"cannot create a network namespace: {result.stderr.strip()}")
            made.append(name)
        steps = [("link", "add", f"{tag}va", "type", "veth", "peer", "name", f"{tag}vb"),
                 ("link", "set", f"{tag}va", "netns", names[0]),
                 ("link", "set", f"{tag}vb", "netns", names[1])]
        for index, name in enumerate(names):
            device = f"{tag}v{'ab'[index]}"
            steps += [("-n", name, "addr", "add", f"{SUBNET}.{index + 1}/24", "dev", device),
                      ("-n", name, "link", "set", device, "up"),
                      ("-n", name, "link", "set", "lo", "up")]
        for step in steps:
            result = _ip(*step)
            if result.returncode != 0:
                pytest.skip(f"cannot set up the veth pair (`ip {' '.join(step)}`): "
                            f"{result.stderr.strip()}")
        agent = tmp_path / "netns_agent.sh"
        agent.write_text(
            "#!/bin/sh\n"
            "# Open MPI launch agent: `agent [options] host command` runs the command in the\n"
            "# namespace standing for the host, under that host's name.\n"
            'while [ $# -gt 0 ]; do case "$1" in -*) shift;; *) break;; esac; done\n'
            'host="$1"; shift\n'
            f'case "$host" in {SUBNET}.1) ns={names[0]};; {SUBNET}.2) ns={names[1]};; '
            '*) echo "unknown host $host" >&2; exit 1;; esac\n'
            'exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"\n')
        agent.chmod(0o755)
        yield names, agent
    finally:
        for name in made:
            _ip("netns", "delete", name)  # Deleting a namespace deletes its veth end.


def test_fit_across_two_namespaces_over_tcp(two_hosts, tmp_path):
    (host_a, host_b), agent = two_hosts
    out = tmp_path / "run"
    mpirun = [mpirun_path(), "--allow-run-as-root", "--host", f"{SUBNET}.1:1,{SUBNET}.2:1",
              "-n", "2", "--prtemca", "plm_ssh_agent", str(agent),
              "--prtemca", "oob_tcp_if_include", f"{SUBNET}.0/24",
              "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", f"{SUBNET}.0/24",
              sys.executable, str(WORKERS / "fit_worker.py"), "--samples", "512",
              "--epochs", "2", "--out", str(out)]
    command = ["ip", "netns", "exec", host_a, "unshare", "--uts", "sh", "-c",
               f"hostname {host_a}; {shlex.join(mpirun)}"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    records = [json.load(open(out / f"rank{rank}.json")) for rank in (0, 1)]
    assert [r["host"] for r in records] == [host_a, host_b]  # One rank per "host".
    assert records[0]["digests"] == records[1]["digests"]
    assert records[0]["history"] == records[1]["history"]
