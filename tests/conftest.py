"""The leak detector that every test module runs under.

Every process a test starts (terminals, kernels, servers) inherits an
environment variable holding a tag unique to the test module. When the module
ends, no living process may carry that tag: whatever a test started, daemons
included, must be gone. The check reads /proc/PID/environ through psutil.

Helpers shared by the test modules live in ``helpers.py``, not here.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator

import psutil
import pytest
from helpers import TAG, tagged_processes


@pytest.fixture(scope="module", autouse=True)
def no_leftover_processes() -> Iterator[str]:
    tag = uuid.uuid4().hex
    previous = os.environ.get(TAG)
    os.environ[TAG] = tag
    try:
        yield tag
    finally:
        if previous is None:
            del os.environ[TAG]
        else:
            os.environ[TAG] = previous
    deadline = time.monotonic() + 10
    while (left := tagged_processes(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    described = [_described(proc) for proc in left]
    for proc in left:  # do not let one leak spoil the next modules
        with contextlib.suppress(psutil.Error):
            proc.kill()
    assert not left, "processes left behind: " + ", ".join(described)


def _described(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline())}"
    except psutil.Error:  # ended, or a zombie, since it was listed
        return f"{proc.pid} (ended)"
