"""Shared fixtures of the backend kernel tests."""

import pytest

from numpyflow.backend import threads


@pytest.fixture(autouse=True, scope="module")
def _stop_the_pool_afterwards():
    # Later tests count the process's threads (benchmarks' thread report): leave none.
    yield
    threads.shutdown()
