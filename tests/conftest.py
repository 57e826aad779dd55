"""Shared fixtures: a leak detector that every test module runs under, and helpers.

Every process a test starts (terminals, kernels, servers) inherits an
environment variable holding a tag unique to the test module. When the module
ends, no living process may carry that tag: whatever a test started, daemons
included, must be gone. The check reads /proc/PID/environ through psutil.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import psutil
import pytest

TAG = "MODWSGI_MAGICS_TEST_TAG"


def tagged_processes(tag: str) -> list[psutil.Process]:
    """Living processes whose environment carries ``tag``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(TAG) == tag:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll ``predicate`` until it is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    for proc in left:  # do not let one leak spoil the next modules
        proc.kill()
    assert not left, "processes left behind: " + ", ".join(
        f"{p.pid} {' '.join(p.cmdline())}" for p in left
    )
