"""The terminals panel's feed and the kernel's socket (issue #8), without a browser.

The engine's view (engine/view.py) against real bash; the kernel's Unix
socket (panel/socket.py) through a real kernel and jupyter_client.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import time

import pytest
from helpers import magics_kernel, run_cell, wait_until
from jupyter_client.manager import start_new_kernel

from modwsgi_magics import Terminal
from modwsgi_magics.engine import TerminalBusy
from modwsgi_magics.panel import socket_path


class Screen:
    """What a view was sent, as one string."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def __call__(self, text: str) -> None:
        self.pieces.append(text)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def shows(self, text: str, timeout: float = 10.0) -> None:
        wait_until(lambda: text in self.text, timeout)


@pytest.fixture
def terminal(tmp_path):
    with Terminal(cwd=str(tmp_path), env={**os.environ, "HOME": str(tmp_path.parent)}) as term:
        yield term


def test_when_a_cell_runs_then_the_view_shows_prompt_command_and_raw_output(terminal, tmp_path):
    screen = Screen()
    terminal.watch().subscribe(screen)
    result = terminal.run("printf '\\033[31mred\\033[0m\\n'; printf '10%%\\r100%%\\n'")
    where = f"~/{tmp_path.name}"
    screen.shows(f"\x1b[1;34m{where}\x1b[0m$ printf", timeout=5)
    screen.shows("\x1b[31mred\x1b[0m\r\n10%\r100%\r\n")
    assert screen.text.endswith(f"\x1b[1;34m{where}\x1b[0m$ ")
    assert "__modwsgi_magics" not in screen.text
    assert result.output == "\x1b[31mred\x1b[0m\n10%\r100%\n"


def test_when_a_virtualenv_is_active_then_the_prompt_names_it(terminal, tmp_path):
    screen = Screen()
    terminal.watch().subscribe(screen)
    terminal.run("VIRTUAL_ENV=/opt/venv; cd /")
    screen.shows("(venv) \x1b[1;34m/\x1b[0m$ ")


def test_when_a_view_connects_late_then_the_scrollback_is_replayed(terminal):
    terminal.watch()
    terminal.run("echo one; echo two")
    screen = Screen()
    terminal.watch().subscribe(screen)
    assert "echo one; echo two\r\none\r\ntwo\r\n" in screen.text


def test_when_a_view_is_watching_then_cell_outputs_do_not_change(terminal):
    command = "read -p 'Name? ' n; echo hello $n; stty -a | grep -o ' -echo '"
    before = terminal.run(command, input="Ada\n").output
    terminal.watch()
    after = terminal.run(command, input="Ada\n").output
    assert before == after == "Name? hello Ada\n -echo \n"


def test_when_a_learner_types_a_command_then_it_echoes_and_cells_see_its_effect(terminal):
    screen = Screen()
    terminal.watch().subscribe(screen)
    terminal.send_keys("export TYPED=42; cd /\r")
    screen.shows("export TYPED=42; cd /\r\n")  # echoed by the tty
    assert terminal.run("echo $TYPED $PWD").output == "42 /\n"


def test_when_a_learner_starts_a_long_command_then_cells_are_refused_until_ctrl_c(terminal):
    screen = Screen()
    terminal.watch().subscribe(screen)
    terminal.send_keys("sleep 100\r")
    wait_until(lambda: terminal.running is not None)
    with pytest.raises(TerminalBusy, match="sleep 100"):
        terminal.run("echo never")
    terminal.send_keys("\x03")
    wait_until(lambda: terminal.running is None)
    assert terminal.run("echo next").output == "next\n"
    screen.shows("sleep 100\r\n^C")


def test_when_a_learner_presses_ctrl_c_then_a_bg_server_stops_and_the_terminal_is_free(terminal):
    terminal.watch()
    terminal.start("sleep 200", timeout=10)
    assert terminal.running is not None
    screen = Screen()
    terminal.watch().subscribe(screen)
    terminal.send_keys("\x03")
    wait_until(lambda: terminal.running is None)
    assert terminal.run("echo free").output == "free\n"
    assert "^C" in screen.text


# -- the kernel's socket ----------------------------------------------------------


class Client:
    """A connection to a kernel's socket, as the Jupyter server's relay makes it."""

    def __init__(self, path: str, name: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(10)
        self.lines = self.sock.makefile("rb")
        self.send(["attach", name])
        self.screen = ""
        self.messages: list[list] = []

    def send(self, message: list) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def read_until(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} not in {self.screen!r}"
            self.next()
        return self.screen

    def next(self) -> list:
        message = json.loads(self.lines.readline())
        self.messages.append(message)
        if message[0] == "stdout":
            self.screen += message[1]
        elif message[0] == "reset":
            self.screen = ""
        return message

    def close(self) -> None:
        self.lines.close()
        self.sock.close()


@pytest.fixture
def kernel(tmp_path):
    with magics_kernel(tmp_path) as started:
        yield started


def test_when_a_kernel_starts_a_terminal_then_its_socket_serves_it_privately(kernel):
    manager, client = kernel
    path = socket_path(manager.connection_file)
    assert not os.path.exists(path)
    run_cell(client, "%%execute1\necho from-cell")
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    view = Client(path, "1")
    try:
        view.read_until("echo from-cell\r\nfrom-cell\r\n")
        assert view.messages[0] == ["setup", {"terminal": "1", "columns": 120, "rows": 40}]
        view.send(["stdin", "export TYPED=42\r"])
        view.read_until("export TYPED=42\r\n\x1b[1;34m")  # echoed, then the next prompt
        reply, shown = run_cell(client, "%%execute1 --expect 42\necho $TYPED")
        assert reply["status"] == "ok" and shown == "42\n"
    finally:
        view.close()


def test_when_terminal_2_is_not_started_then_its_view_waits_and_restart_resets(kernel):
    manager, client = kernel
    run_cell(client, "%%execute1\ntrue")
    view = Client(socket_path(manager.connection_file), "2")
    try:
        assert view.next()[0] == "waiting"
        run_cell(client, "%%execute2\necho two")
        view.read_until("\r\ntwo\r\n")
        run_cell(client, "%terminal restart 2")
        while view.next() != ["reset"]:
            pass
        view.read_until("$ ")
        assert "two" not in view.screen
    finally:
        view.close()


def test_when_the_kernel_shuts_down_then_its_socket_is_gone(tmp_path):
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        run_cell(client, "%load_ext modwsgi_magics")
        run_cell(client, "%%execute1\ntrue")
        path = socket_path(manager.connection_file)
        assert os.path.exists(path)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
    wait_until(lambda: not os.path.exists(path))


def test_when_open_url_is_given_a_remote_host_then_it_is_refused(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%terminal open-url http://example.org/")
    assert reply["status"] == "error" and "not a URL of this machine" in shown
    reply, shown = run_cell(client, "%terminal open-url localhost:8000")
    assert reply["status"] == "ok" and "proxy/8000/" in shown


def test_when_a_learner_types_into_a_repl_then_its_keys_reach_it(terminal):
    screen = Screen()
    terminal.watch().subscribe(screen)
    terminal.send_keys("python3 -q\r")
    try:
        screen.shows(">>> ", timeout=30)
    except AssertionError:
        raise AssertionError(repr(screen.text)) from None
    assert terminal.running is not None and "python3" in terminal.running[0]
    terminal.send_keys("6 * 7\r")
    screen.shows("42\r\n>>> ")
    terminal.send_keys("exit()\r")
    wait_until(lambda: terminal.running is None)
    assert terminal.run("echo back").output == "back\n"


def test_when_a_cell_asks_then_an_answer_typed_in_the_view_reaches_the_command(terminal):
    terminal.watch()
    terminal.start("read -p 'Name? ' n; echo hello $n", timeout=10)
    terminal.send_keys("Ada\r")
    wait_until(lambda: terminal.running is None)
    assert "hello Ada" in terminal.latest_output(2)


def test_when_a_chunk_ends_in_a_space_then_the_view_shows_it_at_once():
    from modwsgi_magics.engine.protocol import run_line
    from modwsgi_magics.engine.view import TerminalFeed

    feed = TerminalFeed("/tmp/x/cell")
    screen = Screen()
    feed.subscribe(screen)
    feed.feed(b">>>")
    feed.feed(b" ")  # a REPL's prompt, cut in two
    assert screen.text == ">>> "
    line = run_line(3, strict=True).replace(b"\n", b"\r\n")  # as set -v echoes it
    feed.feed(b"\r\n" + line[:12])  # the engine's line, cut: held back...
    feed.feed(line[12:] + b"ok\r\n")
    assert screen.text == ">>> \r\nok\r\n"  # ...and hidden whole


def test_when_a_kernel_was_killed_then_the_next_one_removes_its_socket(tmp_path):
    from modwsgi_magics.panel import PanelSocket

    folder = tmp_path / "rt" / "modwsgi-magics"
    folder.mkdir(parents=True, mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(folder / "kernel-dead.sock"))
    dead.close()  # the file stays, as after a SIGKILL
    served = PanelSocket(str(folder / "kernel-live.sock"))
    try:
        assert sorted(os.listdir(folder)) == ["kernel-live.sock"]
    finally:
        served.close()
    assert os.listdir(folder) == []
