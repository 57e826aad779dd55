"""The magics through a real IPython InteractiveShell and real terminals."""

from __future__ import annotations

import os
import re
import sys

import pytest
from helpers import free_port, wait_until
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modwsgi_magics import Readiness, Terminal
from modwsgi_magics.engine import (
    CommandFailed,
    CommandTimeout,
    ExpectationFailed,
    InputRequired,
    TerminalBusy,
    TerminalExited,
)
from modwsgi_magics.magics.options import split_options
from modwsgi_magics.syntax import unescape


@pytest.fixture(scope="module")
def ip(tmp_path_factory):
    home = tmp_path_factory.mktemp("notebook-folder")
    previous = os.getcwd()
    os.chdir(home)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modwsgi_magics")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "modwsgi_magics")
        os.chdir(previous)


@pytest.fixture
def fresh(ip):
    """Both terminals restarted, so each test starts from a clean shell."""
    ip.run_line_magic("terminal", "restart all")
    return ip


@pytest.mark.parametrize(
    ("line", "options", "command"),
    [
        ("echo $HOME", "", "echo $HOME"),
        ("--timeout 5 echo 'a  b'", "--timeout 5", "echo 'a  b'"),
        (
            "--expect 'x y' --bg python3 -m http.server",
            "--expect 'x y' --bg",
            "python3 -m http.server",
        ),
        ("--out=v ls --color", "--out=v", "ls --color"),
        ("--allow-error -- --weird-command", "--allow-error", "--weird-command"),
        ("--bg", "--bg", ""),
    ],
)
def test_when_a_line_is_split_then_options_lead_and_the_command_is_untouched(
    line, options, command
):
    assert split_options(line) == (options, command)


def test_when_input_has_escapes_then_they_become_characters():
    assert unescape(r"y\nname\tx\\n") == "y\nname\tx\\n"


def test_when_a_line_magic_has_dollar_and_braces_then_ipython_leaves_them_to_bash(fresh, capsys):
    fresh.user_ns["x"] = "python"
    result = fresh.run_cell("%execute1 echo $HOME {x} $((1+1))")
    assert result.success
    assert capsys.readouterr().out == f"{os.environ['HOME']} {{x}} 2\n"


def test_when_cells_run_then_state_persists_per_terminal(fresh, capsys):
    fresh.run_cell_magic("execute1", "", "cd /; ONE=1")
    fresh.run_cell_magic("execute-2", "", "TWO=2")
    fresh.run_cell_magic("execute", "", "echo $PWD ${ONE:-unset} ${TWO:-unset}")
    fresh.run_cell_magic("execute2", "", "echo ${ONE:-unset} ${TWO:-unset}")
    assert capsys.readouterr().out == "/ 1 unset\nunset 2\n"


def test_when_execute_all_runs_then_output_is_labelled_per_terminal(fresh, capsys):
    fresh.run_cell_magic("execute-all", "--out both", "echo hi")
    out = capsys.readouterr().out
    assert out == "\x1b[1m[terminal 1]\x1b[0m\nhi\n\x1b[1m[terminal 2]\x1b[0m\nhi\n"
    assert fresh.user_ns["both"] == "hi\n\nhi\n"


def test_when_a_line_fails_then_the_cell_fails_shortly_naming_terminal_line_status(fresh, capsys):
    result = fresh.run_cell("%%execute2\necho one\n(exit 4)\necho two")
    assert isinstance(result.error_in_exec, CommandFailed)
    out = capsys.readouterr().out
    assert out.startswith("one\n") and "two" not in out
    assert "terminal 2: line 2: `(exit 4)` exited with status 4" in out
    assert "Traceback" not in out and len(out.splitlines()) <= 4


def test_when_errors_are_allowed_then_every_line_runs(fresh, capsys):
    fresh.run_cell_magic("execute1", "--allow-error", "false\necho ran")
    assert capsys.readouterr().out == "ran\n"


def test_when_expect_matches_then_the_cell_passes_and_out_holds_plain_text(fresh, capsys):
    fresh.run_cell_magic(
        "execute1",
        "--expect '^Hello' --expect 'World!$' --out greeting",
        "printf '\\033[32mHello World!\\033[0m\\n'",
    )
    assert fresh.user_ns["greeting"] == "Hello World!\n"
    assert "\x1b[32m" in capsys.readouterr().out


def test_when_expect_does_not_match_then_the_cell_fails_with_the_last_lines(fresh):
    with pytest.raises(ExpectationFailed, match="does not match --expect 'Goodbye'"):
        fresh.run_cell_magic("execute1", "--expect Goodbye", "echo Hello")


def test_when_input_option_is_given_then_the_prompt_is_answered(fresh, capsys):
    fresh.run_cell_magic("execute1", r"--input 'yes\n'", "read -p 'Sure? ' a; echo answer=$a")
    assert capsys.readouterr().out == "Sure? answer=yes\n"


def test_when_input_is_needed_without_stdin_then_the_cell_fails_saying_so(fresh):
    with pytest.raises(InputRequired, match="--input"):
        fresh.run_cell_magic("execute1", "", "read -p 'Name? ' name")


def test_when_timeout_passes_then_the_cell_fails_and_the_terminal_lives(fresh, capsys):
    with pytest.raises(CommandTimeout):
        fresh.run_cell_magic("execute1", "--timeout 0.3", "KEEP=me; sleep 20")
    fresh.run_cell_magic("execute1", "", "echo $KEEP")
    assert capsys.readouterr().out.endswith("me\n")


def test_when_configured_then_the_default_timeout_applies(fresh):
    fresh.run_line_magic("config", "TerminalMagics.timeout = 0.3")
    try:
        with pytest.raises(CommandTimeout):
            fresh.run_cell_magic("execute1", "", "sleep 20")
    finally:
        fresh.run_line_magic("config", "TerminalMagics.timeout = None")


def test_when_output_exceeds_the_configured_cap_then_a_marker_says_how_much(fresh, capsys):
    fresh.run_line_magic("config", "TerminalMagics.max_output_chars = 2000")
    try:
        fresh.run_cell_magic("execute1", "", "seq 100000")
    finally:
        fresh.run_line_magic("config", "TerminalMagics.max_output_chars = 1000000")
    out = capsys.readouterr().out
    assert len(out) < 2200 and "left out; %terminal show 1 has the latest output" in out
    assert out.startswith("1\n2\n") and out.endswith("99999\n100000\n")


def test_when_the_old_cap_name_is_set_then_it_warns_and_still_applies(fresh):
    magics = fresh.magics_manager.registry["TerminalMagics"]
    with pytest.warns(DeprecationWarning, match="max_output_chars"):
        fresh.run_line_magic("config", "TerminalMagics.max_output_bytes = 3000")
    try:
        assert magics.max_output_chars == 3000
    finally:
        fresh.run_line_magic("config", "TerminalMagics.max_output_chars = 1000000")


def test_when_the_cap_is_zero_then_it_is_refused_and_kept(fresh):
    magics = fresh.magics_manager.registry["TerminalMagics"]
    with pytest.raises(UsageError, match="at least 100"):
        magics.max_output_chars = 0
    assert magics.max_output_chars == 1_000_000


def test_when_a_server_runs_in_the_background_then_the_other_terminal_reaches_it(fresh, capsys):
    port = free_port()
    fresh.run_cell_magic(
        "execute1", "--bg", f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
    )
    fresh.run_cell_magic(
        "execute2", "--expect 'Directory listing'", f"curl -s http://127.0.0.1:{port}/"
    )
    with pytest.raises(TerminalBusy, match="<ctrl-c>"):
        fresh.run_cell_magic("execute1", "", "echo no")
    fresh.run_line_magic("terminal", "status")
    status = capsys.readouterr().out
    assert "running '" in status and "idle" in status
    terminal = fresh.magics_manager.registry["TerminalMagics"].terminals["1"]
    wait_until(lambda: "GET /" in terminal.transcript.text())  # the log may trail the reply
    fresh.run_line_magic("terminal", "show 1 --lines 5")
    assert '"GET / HTTP/1.1" 200' in capsys.readouterr().out
    fresh.run_cell_magic("execute1", "", "<ctrl-c>")
    assert "Keyboard interrupt received" in capsys.readouterr().out


def test_when_waiting_for_a_url_or_a_pattern_then_bg_returns_when_it_holds(fresh, capsys):
    port = free_port()
    server = f"{sys.executable} -u -m http.server {port} --bind 127.0.0.1"
    fresh.run_cell_magic("execute1", f"--bg --wait-url http://127.0.0.1:{port}/", server)
    fresh.run_cell_magic("execute1", "", "<CTRL+C>")
    fresh.run_cell_magic("execute1", "--bg --wait-for 'Serving HTTP'", server)
    fresh.run_line_magic("terminal", "interrupt 1")
    assert capsys.readouterr().out.count("Serving HTTP") == 2


def test_when_terminal_input_is_sent_then_the_background_program_reads_it(fresh, capsys):
    fresh.run_cell_magic("execute2", "--bg --wait-for ready", "echo ready; read a; echo got:$a")
    fresh.run_line_magic("terminal", r"input 2 hello\n")
    terminal = fresh.magics_manager.registry["TerminalMagics"].terminals["2"]
    wait_until(lambda: terminal.running is None)
    fresh.run_line_magic("terminal", "show 2")
    assert capsys.readouterr().out.endswith("ready\nhello\ngot:hello\n")  # echoed, as typed


def test_when_the_shell_exits_then_the_cell_says_so_and_the_next_starts_fresh(fresh, capsys):
    fresh.run_cell_magic("execute1", "", "GONE=soon")
    with pytest.raises(TerminalExited, match="next command starts a fresh shell"):
        fresh.run_cell_magic("execute1", "", "exit")
    fresh.run_cell_magic("execute1", "", "echo ${GONE:-fresh}")
    captured = capsys.readouterr()
    assert captured.out == "fresh\n" and "starting a fresh one" in captured.err


@pytest.mark.parametrize(
    ("magic", "line", "cell", "message"),
    [
        ("execute1", "", "   ", "nothing to run"),
        ("execute1", "--wait-for x", "echo", "need --bg"),
        ("execute1", "--no-such-option", "echo", "unrecognized"),
        ("execute1", "--expect 'unclosed", "echo", "No closing quotation"),
        ("execute1", "--expect '('", "touch ran", "not a regular expression"),
        ("execute1", "--bg --wait-for '('", "touch ran", "not a regular expression"),
        ("execute1", "--bg --wait-url ftp://x/", "touch ran", "http://localhost:8000/"),
        ("execute1", "--bg --wait-url 8000", "touch ran", "not an http:// or https:// URL"),
        ("execute1", "--bg --wait-for x --wait-url http://a/", "touch ran", "not both"),
        ("execute1", "--timeout -1", "touch ran", "above 0"),
        ("execute1", "--timeout nan", "touch ran", "above 0"),
        ("execute1", "--timeout soon", "touch ran", "above 0"),
        ("execute1", "--out 1bad", "touch ran", "Python variable name"),
        ("execute1", "--out 'a b'", "touch ran", "Python variable name"),
        ("execute1", "--out x.y", "touch ran", "Python variable name"),
        ("execute1", "--out class", "touch ran", "Python variable name"),
        ("execute2", "", "<ctrl-c>\ntouch ran", "a <ctrl-c> cell holds nothing else"),
    ],
)
def test_when_options_are_wrong_then_a_usage_error_says_why_and_nothing_runs(
    ip, magic, line, cell, message
):
    with pytest.raises(UsageError, match=re.escape(message)):
        ip.run_cell_magic(magic, line, cell)
    assert not os.path.exists("ran")


def test_when_wait_url_has_no_scheme_then_http_is_assumed(fresh, capsys):
    port = free_port()
    fresh.run_cell_magic(
        "execute1",
        f"--bg --wait-url localhost:{port} --timeout 20",
        f"python3 -m http.server {port} --bind 127.0.0.1",
    )
    fresh.run_cell_magic(
        "execute2",
        "--expect 200",
        f"curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{port}/",
    )
    fresh.run_cell_magic("execute1", "", "<ctrl-c>")


@pytest.mark.parametrize("line", ["show", "show 3", "restart 7", "frobnicate", "input 1"])
def test_when_terminal_is_misused_then_a_usage_error_says_why(ip, line):
    with pytest.raises(UsageError):
        ip.run_line_magic("terminal", line)


def test_when_a_one_line_cell_fails_then_no_hint_about_later_lines(fresh, capsys):
    with pytest.raises(CommandFailed) as failure:
        fresh.run_cell_magic("execute1", "", "false\n")
    assert str(failure.value) == "terminal 1: line 1: `false` exited with status 1"


def test_when_terminal_input_has_spaces_and_clear_is_asked_then_both_are_kept(fresh, capsys):
    fresh.run_cell_magic("execute1", "--bg --wait-for go", 'echo go; IFS= read -r a; echo "[$a]"')
    terminal = fresh.magics_manager.registry["TerminalMagics"].terminals["1"]
    fresh.run_line_magic("terminal", r"input 1  two  spaces \n")
    wait_until(lambda: terminal.running is None)
    assert terminal.transcript.text().endswith("[ two  spaces ]\n")
    fresh.run_line_magic("terminal", "clear all")
    capsys.readouterr()
    fresh.run_line_magic("terminal", "show 1")
    assert capsys.readouterr().out == "(terminal 1 has no output yet)\n"


def test_when_a_busy_terminal_is_asked_to_clear_then_its_server_log_stays(fresh, capsys):
    fresh.run_cell_magic("execute1", "--bg --wait-for up", "echo up; sleep 60")
    with pytest.raises(TerminalBusy):
        fresh.run_cell_magic("execute1", "--clear", "echo no")
    terminal = fresh.magics_manager.registry["TerminalMagics"].terminals["1"]
    assert "up" in terminal.transcript.text()
    with pytest.raises(UsageError, match="invalid int value: 'many'"):
        fresh.run_line_magic("terminal", "show 1 --lines many")
    fresh.run_line_magic("terminal", "interrupt 1")


def test_when_set_e_ends_the_shell_then_the_error_says_why(fresh):
    fresh.run_cell_magic("execute2", "", "set -e")
    with pytest.raises(TerminalExited, match="`set -e` was on"):
        fresh.run_cell_magic("execute2", "", "false")


def test_when_a_third_or_named_terminal_is_used_then_it_starts_and_is_listed(fresh, capsys):
    fresh.run_cell_magic("execute3", "", "THIRD=3")
    fresh.run_cell_magic("execute-3", "", "echo $THIRD")
    fresh.run_cell_magic("execute", "--terminal db", "echo in-db")
    assert capsys.readouterr().out == "3\nin-db\n"
    fresh.run_cell_magic("execute_all", "", "echo hi")
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "[terminal" in line] == [
        "\x1b[1m[terminal 1]\x1b[0m",
        "\x1b[1m[terminal 2]\x1b[0m",
        "\x1b[1m[terminal 3]\x1b[0m",
        "\x1b[1m[terminal db]\x1b[0m",
    ]
    fresh.run_line_magic("terminal", "status")
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == ["1", "2", "3", "db"]
    with pytest.raises(UsageError, match="every terminal"):
        fresh.run_cell_magic("execute_all", "--terminal x", "echo")
    with pytest.raises(UsageError, match="--terminal wants a name"):
        fresh.run_cell_magic("execute", "--terminal 'a b'", "echo")
    with pytest.raises(UsageError, match="no terminal 'nope'"):
        fresh.run_line_magic("terminal", "show nope")


def test_when_wait_url_names_a_shell_variable_then_the_terminal_expands_it(fresh, capsys):
    port = free_port()
    fresh.run_cell_magic("execute1", "", f"PORT={port}")
    fresh.run_cell_magic(
        "execute1",
        "--bg --wait-url 127.0.0.1:$PORT --timeout 20",
        "sleep 0.5; python3 -m http.server $PORT --bind 127.0.0.1",
    )
    fresh.run_cell_magic("execute1", "", "<ctrl-c>")
    assert f"port {port}" in capsys.readouterr().out


def test_when_an_expanded_url_holds_a_command_substitution_then_it_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    with Terminal(cwd=str(tmp_path)) as terminal:
        ready = Readiness(url=f"http://127.0.0.1:1/$(touch {marker})`touch {marker}`")
        with pytest.raises(CommandTimeout):
            terminal.start("sleep 5", ready=ready, timeout=1)
    assert not marker.exists()
