"""The Jupyter server's relay (modwsgi_magics/server) with a real server, kernel and websocket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from helpers import free_port, run_cell, wait_until
from jupyter_client import BlockingKernelClient

websocket = pytest.importorskip("websocket")
pytest.importorskip("jupyter_server")


class Server:
    def __init__(self, port: int, token: str, runtime: str) -> None:
        self.port, self.token, self.runtime = port, token, runtime
        self.url = f"http://127.0.0.1:{port}"

    def request(self, path: str, method: str = "GET", token: str | None = None) -> dict:
        headers = {"Authorization": f"token {token if token is not None else self.token}"}
        request = urllib.request.Request(f"{self.url}{path}", method=method, headers=headers)
        with urllib.request.urlopen(request, data=b"{}" if method == "POST" else None) as reply:
            return json.loads(reply.read() or b"{}")

    def socket(self, kernel_id: str, name: str, token: str | None = None):
        query = f"?token={token if token is not None else self.token}"
        url = f"ws://127.0.0.1:{self.port}/modwsgi-magics/kernels/{kernel_id}/terminals/{name}"
        return websocket.create_connection(url + query, timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    runtime = str(root / "rt")
    port, token = free_port(), "t0ken-" + os.urandom(8).hex()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": runtime}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.jpserver_extensions={'modwsgi_magics.server': True}",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = Server(port, token, runtime)

    def up() -> bool:
        try:
            served.request("/api/status")
            return True
        except OSError:
            return process.poll() is not None

    try:
        wait_until(up, timeout=60)
        assert process.poll() is None
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.fixture
def kernel(server):
    kernel_id = server.request("/api/kernels", method="POST")["id"]
    client = BlockingKernelClient()
    client.load_connection_file(os.path.join(server.runtime, f"kernel-{kernel_id}.json"))
    client.start_channels()
    client.wait_for_ready(timeout=60)
    try:
        yield kernel_id, client
    finally:
        client.stop_channels()
        server.request(f"/api/kernels/{kernel_id}", method="DELETE")


def read_until(socket, text: str, seen: list[list] | None = None) -> str:
    """Read messages (several lines may come in one) until the screen shows ``text``."""
    screen = ""
    while text not in screen:
        for line in socket.recv().splitlines():
            message = json.loads(line)
            if seen is not None:
                seen.append(message)
            if message[0] == "stdout":
                screen += message[1]
    return screen


def test_when_a_kernel_starts_a_terminal_then_the_server_relays_it(server, kernel):
    kernel_id, client = kernel
    assert server.request(f"/modwsgi-magics/kernels/{kernel_id}") == {"terminals": False}
    run_cell(client, "%load_ext modwsgi_magics")
    run_cell(client, "%%execute1\necho from-cell")
    assert server.request(f"/modwsgi-magics/kernels/{kernel_id}") == {"terminals": True}
    socket = server.socket(kernel_id, "1")
    try:
        seen: list[list] = []
        read_until(socket, "echo from-cell\r\nfrom-cell\r\n", seen)
        assert seen[0][0] == "setup"
        socket.send(json.dumps(["attach", "2"]))  # the browser cannot pick another terminal
        socket.send(json.dumps(["stdin", "echo typed-$((6*7))\r"]))
        read_until(socket, "\r\ntyped-42\r\n")
    finally:
        socket.close()


def test_when_no_token_is_given_then_nothing_is_reached(server, kernel):
    kernel_id, client = kernel
    run_cell(client, "%load_ext modwsgi_magics")
    run_cell(client, "%%execute1\ntrue")
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request(f"/modwsgi-magics/kernels/{kernel_id}", token="wrong")
    assert refused.value.code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as closed:
        server.socket(kernel_id, "1", token="wrong")
    assert closed.value.status_code == 403


def test_when_the_kernel_is_unknown_then_the_answer_is_404(server):
    with pytest.raises(urllib.error.HTTPError) as missing:
        server.request("/modwsgi-magics/kernels/00000000-0000-0000-0000-000000000000")
    assert missing.value.code == 404
    with pytest.raises(websocket.WebSocketBadStatusException) as closed:
        server.socket("00000000-0000-0000-0000-000000000000", "1")
    assert closed.value.status_code == 404
