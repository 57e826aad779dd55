"""The magics inside real kernels: interrupts, stdin, kill, shutdown, restart, nbclient."""

from __future__ import annotations

import os
import signal

import nbformat
import psutil
import pytest
from helpers import magics_kernel, run_cell, tagged_processes, wait_until
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel(tmp_path):
    with magics_kernel(tmp_path) as started:
        yield started


def sleepers(tag: str) -> list[psutil.Process]:
    return [p for p in tagged_processes(tag) if p.name() == "sleep"]


def test_when_a_cell_echoes_then_the_output_streams_into_the_cell(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1\necho hi")
    assert reply["status"] == "ok" and shown == "hi\n"


def test_when_the_kernel_is_interrupted_then_the_command_stops_and_state_stays(
    kernel, no_leftover_processes
):
    manager, client = kernel
    run_cell(client, "%%execute1\nSTATE=kept; cd /")
    msg_id = client.execute("%%execute1\nsleep 300")
    wait_until(lambda: sleepers(no_leftover_processes))
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "CommandInterrupted"
    wait_until(lambda: not sleepers(no_leftover_processes))
    reply, shown = run_cell(client, "%%execute1\necho $STATE $PWD")
    assert shown == "kept /\n"


def test_when_the_frontend_allows_stdin_then_the_learner_is_asked(kernel):
    _, client = kernel
    prompts = []

    def answer(msg: dict) -> None:
        prompts.append(msg["content"]["prompt"])
        client.input("Ada")

    reply, shown = run_cell(
        client, "%%execute2\nread -p 'Name? ' n; echo hello $n", stdin_hook=answer
    )
    assert reply["status"] == "ok" and len(prompts) == 1
    assert shown.endswith("hello Ada\n")


def test_when_no_stdin_is_allowed_then_the_cell_fails_saying_it_waits_for_input(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1\nread -p 'Continue? [y/N] ' a")
    assert reply["status"] == "error" and reply["ename"] == "InputRequired"
    assert "waits for keyboard input at 'Continue? [y/N]'" in shown


@pytest.mark.slow
def test_when_the_kernel_is_killed_then_no_process_of_its_terminals_survives(
    tmp_path, no_leftover_processes
):
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        run_cell(client, "%load_ext modwsgi_magics")
        run_cell(client, "%%execute1\nnohup sleep 401 >/dev/null 2>&1 &\nsetsid sleep 402 &")
        run_cell(client, "%%execute2 --bg\n(setsid sleep 403 &); sleep 404")
        wait_until(lambda: len(sleepers(no_leftover_processes)) == 4)
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        wait_until(lambda: not manager.is_alive())
        wait_until(lambda: not tagged_processes(no_leftover_processes), timeout=20)
    finally:
        client.stop_channels()
        manager.cleanup_resources()


def test_when_the_kernel_restarts_or_shuts_down_then_its_servers_are_gone(
    kernel, no_leftover_processes
):
    manager, client = kernel
    run_cell(client, "%%execute1 --bg --wait-for ready\necho ready; setsid sleep 405 & sleep 406")
    wait_until(lambda: len(sleepers(no_leftover_processes)) == 2)
    manager.restart_kernel(now=False)
    client.wait_for_ready(timeout=60)
    wait_until(lambda: not sleepers(no_leftover_processes), timeout=20)


def notebook(*sources: str) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("%load_ext modwsgi_magics"), *cells]
    )


def test_when_nbclient_runs_a_failing_cell_then_it_reports_the_short_error(tmp_path):
    book = notebook("%%execute1\necho one\nfalse\necho never")
    with pytest.raises(CellExecutionError) as failure:
        NotebookClient(book, timeout=60, resources={"metadata": {"path": str(tmp_path)}}).execute()
    message = str(failure.value)
    assert (
        "CommandFailed" in message and "terminal 1: line 2: `false` exited with status 1" in message
    )
    assert "Traceback" not in message


def test_when_two_million_lines_stream_then_the_notebook_keeps_the_cap(tmp_path):
    book = notebook(
        "%config TerminalMagics.max_output_bytes = 200000",
        "%%execute1\nseq 2000000",
        "%%execute1\nhead -c 200000 /dev/urandom; echo; echo binary-done",
    )
    NotebookClient(book, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(output.get("text", "") for output in book.cells[2].outputs)
    assert len(text) < 200_000 + 200
    assert text.startswith("1\n2\n") and text.endswith("1999999\n2000000\n")
    assert "lines (" in text and "characters) left out" in text
    binary = "".join(output.get("text", "") for output in book.cells[3].outputs)
    assert binary.endswith("binary-done\n")


def test_when_a_password_is_asked_then_the_input_box_hides_it(kernel):
    _, client = kernel
    requests = []

    def answer(msg: dict) -> None:
        requests.append(msg["content"])
        client.input("s3cret")

    reply, shown = run_cell(
        client, "%%execute1\nread -s -p 'Password: ' pw; echo; echo ${#pw}", stdin_hook=answer
    )
    assert reply["status"] == "ok" and shown.endswith("6\n")
    assert requests[0]["password"] is True
