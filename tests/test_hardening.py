"""The engine at its edges, through real kernels: early stops, raw terminals,
top-level variables, typed Ctrl-D, and programs that take keyboard input across
cells (a REPL, sh, a nested bash, a relay)."""

from __future__ import annotations

import random
import time

import nbformat
import pytest
from helpers import magics_kernel, run_cell
from nbclient import NotebookClient

from modwsgi_magics import Terminal
from modwsgi_magics.engine import CommandInterrupted, CommandTimeout

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with magics_kernel(tmp_path_factory.mktemp("hardening")) as started:
        yield started


@pytest.mark.slow
def test_when_stop_is_pressed_right_after_a_cell_starts_then_the_terminal_is_free(kernel):
    manager, client = kernel
    rng = random.Random(7)
    names = set()
    for attempt in range(100):
        msg_id = client.execute("%%execute1\nsleep 2", stop_on_error=False)
        delay = rng.uniform(0, 0.05)
        client.get_iopub_msg(timeout=10)  # status: busy
        time.sleep(delay)
        manager.interrupt_kernel()
        while True:
            reply = client.get_shell_msg(timeout=30)
            if reply["parent_header"]["msg_id"] == msg_id:
                break
        content = reply["content"]
        if content["status"] == "error":
            names.add(content["ename"])
            assert content["ename"] in ("CommandInterrupted", "KeyboardInterrupt"), content
            assert not any("modwsgi_magics" in line for line in content["traceback"][1:]), (
                attempt,
                content["traceback"],
            )
        reply, shown = run_cell(client, f"%%execute1 --timeout 10\necho free-{attempt}", timeout=30)
        assert reply["status"] == "ok" and shown.endswith(f"free-{attempt}\n"), (attempt, shown)
    assert "CommandInterrupted" in names


def test_when_the_engine_times_out_at_once_then_the_terminal_is_free(tmp_path):
    with Terminal(cwd=str(tmp_path)) as terminal:
        for attempt in range(100):
            started = time.monotonic()
            with pytest.raises((CommandTimeout, CommandInterrupted)):
                terminal.run("sleep 5", timeout=1e-6)
            # Stopped by Ctrl-C, even one that reached bash's fork before it
            # became `sleep`: not by the 3 s escalation, nor by sleep's end.
            assert time.monotonic() - started < 2.5, attempt
            assert terminal.running is None, attempt
        assert terminal.run("echo free").output == "free\n"


def test_when_a_program_leaves_the_terminal_raw_then_the_next_cell_runs(kernel):
    _, client = kernel
    run_cell(client, "%%execute1\nSTATE=kept")
    reply, _ = run_cell(
        client,
        "%%execute1 --timeout 1\npython3 -c 'import tty,time; tty.setraw(0); time.sleep(60)'",
    )
    assert reply["ename"] == "CommandTimeout"
    reply, shown = run_cell(client, "%%execute1\necho $STATE")
    assert reply["status"] == "ok" and shown == "kept\n"


def test_when_a_cell_sets_stty_raw_then_typed_input_still_arrives(kernel):
    _, client = kernel
    run_cell(client, "%%execute2\nstty raw")
    reply, shown = run_cell(
        client, "%%execute2 --input 'hello\\n' --timeout 10\nread -r x; echo \"got $x\""
    )
    assert reply["status"] == "ok" and "got hello" in shown


def test_when_a_cell_declares_variables_then_the_next_cell_has_them(kernel):
    _, client = kernel
    run_cell(client, "%%execute1\ndeclare FOO=bar; declare -A MAP=([k]=v); declare -x EXP=1")
    reply, shown = run_cell(client, "%%execute1\necho $FOO ${MAP[k]}; env | grep '^EXP='")
    assert reply["status"] == "ok" and shown == "bar v\nEXP=1\n"


def test_when_local_is_used_at_the_top_of_a_cell_then_bash_refuses_it(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1\nlocal x=1")
    assert reply["ename"] == "CommandFailed" and "can only be used in a function" in shown


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('set -u\necho before\necho "$NOT_SET_ANYWHERE"\necho after', 3, "unbound variable"),
        ('echo before\necho "${NOT_SET_ANYWHERE:?give it a value}"\necho after', 2, "give it"),
        ("echo before\necho $((1 / 0))\necho after", 2, "division by 0"),
        ('echo before\nset -u\necho "$NOT_SET_ANYWHERE"', 3, "unbound variable"),
        ("echo before\nreturn\necho after", 2, "can only `return'"),
    ],
)
def test_when_bash_drops_a_command_then_the_cell_fails_at_its_line(kernel, body, line, message):
    # An expansion error raises no ERR trap in an interactive bash: it drops
    # the command and goes on, as in a terminal; a top-level `return` leaves
    # the cell. Either way the cell fails, naming the line.
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1\n" + body)
    run_cell(client, "%%execute1\nset +u")
    assert reply["ename"] == "CommandFailed"
    assert "before" in shown and message in shown
    assert f"line {line}" in shown


def test_when_a_dropped_command_is_allowed_to_fail_then_the_cell_runs_on(kernel):
    _, client = kernel
    reply, shown = run_cell(client, '%%execute1 --allow-error\nset -u\necho "$NOT_SET"\necho after')
    run_cell(client, "%%execute1\nset +u")
    assert reply["status"] == "ok" and "unbound variable" in shown and "after" in shown


def test_when_a_cell_sets_its_own_err_trap_then_it_runs_and_stays(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1\ntrap 'echo my-trap $?' ERR\nfalse\necho after")
    assert reply["ename"] == "CommandFailed" and "my-trap 1" in shown
    assert "after" not in shown.splitlines() and shown.count("my-trap") == 1
    # During a cell the engine's trap holds the line; the learner's is back at
    # the prompt, and runs again on the next failure.
    _, shown = run_cell(client, "%%execute1 --allow-error\nfalse")
    assert "my-trap 1" in shown
    reply, shown = run_cell(client, "%%execute1\nfalse; echo after")
    assert "my-trap 1" in shown and "after" not in shown.splitlines()
    run_cell(client, "%%execute1\ntrap - ERR")
    _, shown = run_cell(client, "%%execute1 --allow-error\nfalse")
    assert "my-trap" not in shown


def test_when_input_ends_with_ctrl_d_then_cat_ends(kernel):
    _, client = kernel
    reply, shown = run_cell(client, "%%execute1 --input 'one\\ntwo\\n\\x04' --timeout 10\ncat")
    assert reply["status"] == "ok" and "one" in shown and "two" in shown


def test_when_ctrl_c_stops_a_server_then_older_cells_output_is_not_replayed(kernel):
    _, client = kernel
    run_cell(client, "%%execute1\necho OLDER-CELL-OUTPUT")
    run_cell(client, "%%execute1 --bg --wait-for started\necho started; sleep 30")
    reply, shown = run_cell(client, "%%execute1\n<ctrl-c>")
    assert reply["status"] == "ok" and "OLDER-CELL-OUTPUT" not in shown


# -- programs that take keyboard input, across cells ------------------------------


def test_when_a_repl_runs_then_cells_are_typed_into_it_through_nbclient(tmp_path):
    cells = [
        "%load_ext modwsgi_magics",
        "%%execute1 --bg\npython3 -q",
        "%%execute1 --expect '^42$'\nx = 6 * 7\nprint(x)",
        "%%execute1\nfor i in range(2):\n    print('loop', i)\n\n",
        "%%execute1\nexit()",
        "%%execute1 --out back\necho back in bash",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=60, resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert shown[1] == ">>> "
    assert shown[2] == "x = 6 * 7\n>>> print(x)\n42\n>>> "
    assert "loop 0\nloop 1\n>>> " in shown[3]
    assert shown[4] == "exit()\n"
    assert shown[5] == "back in bash\n"


def test_when_a_nested_shell_exits_then_the_terminal_shell_is_back_as_before(kernel):
    _, client = kernel
    run_cell(client, "%%execute2\ncd /tmp; OUTER=kept")
    reply, shown = run_cell(client, "%%execute2 --bg --timeout 10\nbash --norc")
    assert reply["status"] == "ok"
    reply, shown = run_cell(client, "%%execute2 --timeout 10\ncd /; echo inner:${OUTER:-unset}")
    assert reply["status"] == "ok" and "inner:unset" in shown
    reply, shown = run_cell(client, "%%execute2 --timeout 10\nexit")
    assert reply["status"] == "ok"
    reply, shown = run_cell(client, "%%execute2\necho $PWD $OUTER")
    assert shown == "/tmp kept\n"


def test_when_a_plain_sh_runs_then_cells_are_typed_into_it(kernel):
    _, client = kernel
    run_cell(client, "%%execute2 --bg --timeout 10\nsh")
    reply, shown = run_cell(client, "%%execute2 --timeout 10\necho in-sh-$((6*7))")
    assert reply["status"] == "ok" and "in-sh-42" in shown
    reply, _ = run_cell(client, "%%execute2 --timeout 10\nexit 3")
    assert reply["ename"] == "CommandFailed"  # the program's own status counts
    reply, shown = run_cell(client, "%%execute2\necho idle")
    assert shown == "idle\n"


def test_when_a_relay_runs_a_quiet_program_then_it_is_not_taken_for_a_prompt(kernel):
    _, client = kernel
    code = "%%execute1 --timeout 20\nscript -qc 'sleep 3; echo inner-done' /dev/null"
    reply, shown = run_cell(client, code)
    assert reply["status"] == "ok" and "inner-done" in shown


def test_when_a_program_does_not_wait_for_input_then_a_cell_for_it_fails_at_once(kernel):
    _, client = kernel
    run_cell(client, "%%execute1 --bg --wait-for up\necho up; sleep 60")
    started = time.monotonic()
    reply, shown = run_cell(client, "%%execute1\nprint('typed')")
    assert reply["ename"] == "TerminalBusy" and "sleep 60" in shown
    assert time.monotonic() - started < 5
    run_cell(client, "%%execute1\n<ctrl-c>")


def test_when_ctrl_c_reaches_a_repl_then_it_stays_at_its_prompt(kernel):
    _, client = kernel
    run_cell(client, "%%execute1 --bg --timeout 10\npython3 -q")
    reply, shown = run_cell(client, "%%execute1\n<ctrl-c>")
    assert reply["status"] == "ok" and "KeyboardInterrupt" in shown
    reply, shown = run_cell(client, "%%execute1 --timeout 10\nprint('still', 'here')")
    assert "still here" in shown
    reply, shown = run_cell(client, "%%execute1 --timeout 10\nexit()\nprint('never typed')")
    assert reply["ename"] == "ProgramEnded" and "print('never typed')" in shown
    reply, shown = run_cell(client, "%%execute1\necho shell")
    assert shown == "shell\n"


def test_when_the_stop_button_is_pressed_in_a_repl_then_it_survives(kernel):
    manager, client = kernel
    run_cell(client, "%%execute1 --bg --timeout 10\npython3 -q")
    msg_id = client.execute("%%execute1\nimport time; time.sleep(30)", stop_on_error=False)
    time.sleep(1.0)
    manager.interrupt_kernel()
    while (reply := client.get_shell_msg(timeout=30))["parent_header"]["msg_id"] != msg_id:
        pass
    assert reply["content"]["ename"] == "CommandInterrupted"
    reply, shown = run_cell(client, "%%execute1 --timeout 10\nprint(1 + 1)")
    assert "2" in shown
    run_cell(client, "%%execute1 --timeout 10\nexit()")


@pytest.mark.parametrize(
    "override",
    [
        "read() { echo fake; }",
        "printf() { :; }",
        "trap() { :; }",
        "source() { :; }",
        "enable -n source",
        "set() { :; }",
        "local() { :; }",
        "return() { :; }",
    ],
)
def test_when_a_builtin_the_engine_uses_is_overridden_then_the_terminal_still_works(
    kernel, override
):
    _, client = kernel
    run_cell(client, "%terminal restart 2")
    run_cell(client, f"%%execute2 --allow-error\n{override}")
    reply, shown = run_cell(client, "%%execute2 --timeout 10\nfalse\necho never")
    assert reply["ename"] == "CommandFailed" and "never" not in shown  # strict mode holds
    reply, shown = run_cell(client, "%%execute2 --timeout 10\necho works-$((6*7))")
    assert reply["status"] == "ok" and shown == "works-42\n"
    run_cell(client, "%terminal restart 2")


def test_when_a_background_job_ends_then_its_notice_follows_the_next_command(kernel):
    _, client = kernel
    run_cell(client, "%%execute2\nsleep 0.2 &")
    time.sleep(0.6)
    _, shown = run_cell(client, "%%execute2\necho next")
    # Bash tells a job's end before a trap runs, so in a strict cell the
    # notice comes just before the command's own output.
    assert "Done" in shown and "next\n" in shown
    _, shown = run_cell(client, "%%execute2\necho third")
    assert shown == "third\n"


def test_when_the_shell_ignores_ctrl_c_then_a_stop_during_wait_frees_the_terminal(kernel):
    _, client = kernel
    run_cell(client, "%%execute2\ntrap '' INT")
    reply, _ = run_cell(client, "%%execute2 --timeout 1\nsleep 30 & wait", timeout=30)
    assert reply["ename"] == "CommandTimeout"
    reply, shown = run_cell(client, "%%execute2\ntrap - INT; echo free")
    assert reply["status"] == "ok" and shown == "free\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--bg --wait-url 8000", "not an http:// or https:// URL"),
        ("--bg --wait-url ftp://localhost/", "write http://localhost:8000/"),
        ("--expect '('", "not a regular expression"),
        ("--bg --wait-for '('", "not a regular expression"),
        ("--timeout -1", "above 0"),
        ("--timeout nan", "above 0"),
        ("--out 1bad", "Python variable name"),
    ],
)
def test_when_an_option_is_bad_then_the_kernel_says_so_and_nothing_runs(
    kernel, tmp_path, options, message
):
    _, client = kernel
    marker = tmp_path / "ran"
    reply, shown = run_cell(client, f"%%execute2 {options}\ntouch {marker}")
    assert reply["ename"] == "UsageError" and message in shown
    assert not marker.exists()
    reply, shown = run_cell(client, "%%execute2\necho free")
    assert shown == "free\n"
