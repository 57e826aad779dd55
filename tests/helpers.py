"""Helpers the test modules share: ``from helpers import ...``.

``TAG`` names the environment variable through which the leak detector of
``conftest.py`` marks every process a test module starts.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psutil

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


def run_cell(
    client: Any, code: str, *, timeout: float = 60, stdin_hook: Any = None
) -> tuple[dict[str, Any], str]:
    """Execute ``code`` in a kernel (a jupyter_client client); return the
    reply content and the text the cell showed."""
    shown = []

    def collect(msg: dict) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            shown.append(content["text"])
        elif msg["msg_type"] == "error":
            shown.append("\n".join(content["traceback"]))

    reply = client.execute_interactive(
        code,
        timeout=timeout,
        output_hook=collect,
        allow_stdin=stdin_hook is not None,
        stdin_hook=stdin_hook,
    )
    return reply["content"], "".join(shown)


@contextmanager
def magics_kernel(folder: Any) -> Iterator[tuple[Any, Any]]:
    """A real python3 kernel in ``folder`` with the extension loaded: its
    manager and a client; shut down when the block ends."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(folder))
    try:
        run_cell(client, "%load_ext modwsgi_magics")
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
