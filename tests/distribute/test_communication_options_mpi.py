"""`communication_options` under `mpirun -n 2`: packing the all-reduce into
`bytes_per_pack` pieces, and `timeout_seconds` bounding a collective's wait."""

import json
import os
import time

from tests.distribute.mpi_launch import check, require_mpi, run_mpi


def test_bytes_per_pack_splits_the_buffer_and_sums_exactly():
    require_mpi()
    completed = check(run_mpi(2, "options_worker.py", "pack", 1024, timeout=60))
    records = sorted((json.loads(line) for line in completed.stdout.splitlines()
                      if line.startswith("{")), key=lambda r: r["rank"])
    assert [r["rank"] for r in records] == [0, 1]
    for record in records:
        # float32: 4000 bytes in packs of 1024 -> 4 calls; float64: 24 bytes -> 1 call.
        assert record["calls"] == 5
        assert record["exact"]
        assert record["small"] == [1.0, 3.0, 5.0]
        # The default: neither the options nor the script set it.
        assert record["timeout"] == float(os.environ.get("NUMPYFLOW_COLLECTIVE_TIMEOUT", 300))


def test_without_packing_one_call_per_dtype():
    require_mpi()
    completed = check(run_mpi(2, "options_worker.py", "pack", 0, timeout=60))
    records = [json.loads(line) for line in completed.stdout.splitlines()
               if line.startswith("{")]
    assert len(records) == 2 and all(r["calls"] == 2 and r["exact"] for r in records)


def test_timeout_seconds_takes_precedence_over_the_environment():
    require_mpi()
    start = time.monotonic()
    completed = run_mpi(2, "options_worker.py", "timeout", 2,
                        env={"NUMPYFLOW_COLLECTIVE_TIMEOUT": "100"}, timeout=60)
    assert time.monotonic() - start < 30
    assert completed.returncode != 0
    assert "rank 0 stopped after 2." in completed.stdout
    assert "on rank 0 of 2 did not complete within 2 s" in completed.stderr
