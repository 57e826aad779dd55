"""The engine against real bash: no IPython, deadlines instead of sleeps."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time

import psutil
import pytest
from helpers import free_port, tagged_processes, wait_until

from modwsgi_magics import Readiness, Terminal
from modwsgi_magics.engine import (
    CommandInterrupted,
    CommandTimeout,
    InputRequired,
    TerminalBusy,
    TerminalExited,
    TerminalStartError,
)


@pytest.fixture
def terminal(tmp_path):
    with Terminal(cwd=str(tmp_path)) as term:
        yield term


def test_when_state_is_set_then_later_commands_see_it(terminal, tmp_path):
    (tmp_path / "sub").mkdir()
    terminal.run("cd sub; PLAIN=p; export EXPORTED=e; greet() { echo hi $1; }")
    terminal.run("alias ll='echo aliased'; shopt -s nullglob; set -o pipefail")
    result = terminal.run(
        "echo $PWD $PLAIN $EXPORTED; greet you; ll; shopt -q nullglob && echo glob; false | true"
    )
    assert result.status == 1  # pipefail persisted
    assert f"{tmp_path}/sub p e\nhi you\naliased\nglob\n" == result.text
    assert terminal.cwd == f"{tmp_path}/sub"


def test_when_a_virtualenv_is_activated_then_no_prompt_text_leaks(terminal, tmp_path):
    venv = tmp_path / "venv"
    activate = terminal.run(
        f"{sys.executable} -m venv --without-pip {venv}; source {venv}/bin/activate"
    )
    assert activate.status == 0 and activate.output == ""
    result = terminal.run("echo $VIRTUAL_ENV; command -v python")
    assert result.output == f"{venv}\n{venv}/bin/python\n"
    assert terminal.virtualenv == str(venv)


def test_when_body_has_heredoc_loop_and_long_line_then_bash_parses_it_whole(terminal):
    long_word = "x" * 6000
    body = f"cat <<'EOF'\n$not_expanded\nEOF\nfor i in 1 2; do\n  echo $i\ndone\necho {long_word}"
    result = terminal.run(body)
    assert result.text == f"$not_expanded\n1\n2\n{long_word}\n"


def test_when_a_line_fails_then_later_lines_do_not_run_and_the_line_is_named(terminal):
    result = terminal.run("echo one\nfalse\necho two")
    assert (result.status, result.failed_line, result.failed_command) == (1, 2, "false")
    assert result.text == "one\n"
    allowed = terminal.run("echo one\nfalse\necho two", strict=False)
    assert allowed.text == "one\ntwo\n" and allowed.failed_line is None


def test_when_a_quote_is_unclosed_then_it_is_a_syntax_error_not_a_hang(terminal):
    result = terminal.run('echo "never closed', timeout=10)
    assert result.status == 2
    assert "unexpected EOF" in result.text
    assert terminal.run("echo still here").text == "still here\n"


def test_when_output_is_printed_by_a_command_then_it_cannot_fake_the_end(terminal):
    record = r"1\0000\000\000/tmp\000\000" * 3  # what PROMPT_COMMAND would write
    result = terminal.run(f"printf '{record}'; echo ' PS1 $ '; sleep 0.2; echo after")
    assert result.text.endswith("after\n") and result.status == 0


def test_when_a_program_asks_then_it_sees_a_terminal_with_a_size_and_no_pager(terminal):
    result = terminal.run("test -t 0 && test -t 1 && stty size && echo $PAGER $TERM")
    assert result.text == "40 120\ncat xterm-256color\n"


def test_when_output_is_binary_then_the_terminal_survives(terminal):
    result = terminal.run("head -c 100000 /dev/urandom; echo; echo done")
    assert result.status == 0 and result.text.endswith("done\n")


def test_when_two_million_lines_are_printed_then_memory_and_output_stay_bounded(tmp_path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Terminal(cwd=str(tmp_path), max_output_chars=100_000) as term:
        result = term.run("seq 2000000")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.status == 0 and result.text.endswith("1999999\n2000000\n")
    assert len(result.output) < 100_000 + 200
    assert "lines (" in result.output and result.omitted > 14_000_000
    assert grown_mb < 100


def test_when_input_is_given_then_the_command_reads_it(terminal):
    result = terminal.run('read -p "Name? " name; echo "hello $name"', input="bob\n")
    assert result.text == "Name? hello bob\n"


def test_when_input_is_asked_then_the_callback_answers(terminal):
    prompts = []
    result = terminal.run(
        "read -p 'Continue? [y/N] ' a; echo got=$a",
        on_input=lambda prompt: prompts.append(prompt) or "y\n",
    )
    assert prompts == ["Continue? [y/N] "] and result.text.endswith("got=y\n")


def test_when_input_is_needed_and_nobody_can_answer_then_it_fails_fast(terminal):
    with pytest.raises(InputRequired, match="waits for keyboard input"):
        terminal.run(f"{sys.executable} -c 'input(\"Password: \")'", timeout=20)
    assert terminal.run("echo usable").text == "usable\n"


def test_when_a_command_times_out_then_it_is_interrupted_and_the_shell_kept(terminal):
    terminal.run("KEPT=yes")
    with pytest.raises(CommandTimeout, match="did not finish within 0.3 s"):
        terminal.run("sleep 30", timeout=0.3)
    assert terminal.run("echo $KEPT").text == "yes\n"


@pytest.mark.slow
def test_when_the_job_ignores_ctrl_c_then_stopping_escalates_but_spares_the_shell(terminal):
    terminal.run("MARK=1")
    with pytest.raises(CommandTimeout):
        terminal.run("trap '' INT; sleep 30", timeout=0.2)
    assert terminal.run("echo $MARK").text == "1\n"


def test_when_python_raises_keyboardinterrupt_then_the_job_is_stopped(terminal):
    pressed = []

    def interrupt_on_output(text):  # the stop button, pressed once while output streams
        if not pressed:
            pressed.append(text)
            raise KeyboardInterrupt

    terminal.run("STATE=kept")
    with pytest.raises(CommandInterrupted, match="keeps its state"):
        terminal.run("echo started; sleep 30", on_output=interrupt_on_output)
    assert terminal.run("echo $STATE").text == "kept\n"


#: A quiet period long enough that a server's start, even on a loaded machine,
#: cannot be mistaken for it: ready before it, a listening port made it ready.
QUIET = 5.0


def silent_server(port: int) -> str:
    """A command that listens on ``port`` at once and never prints a thing."""
    program = (
        f"import socket, time; s = socket.create_server(('127.0.0.1', {port})); time.sleep(600)"
    )
    return f'{sys.executable} -c "{program}"'


def test_when_a_server_listens_then_background_start_returns_before_the_quiet_period(terminal):
    started = time.monotonic()
    result = terminal.start(silent_server(free_port()), ready=Readiness(quiet=QUIET), timeout=30)
    took = time.monotonic() - started
    assert result.status is None and result.output == "" and terminal.running
    assert took < QUIET - 1, f"ready after {took:.1f} s: the quiet period, not the port"
    with pytest.raises(TerminalBusy, match="is busy"):
        terminal.run("echo typed into the server?")
    stopped = terminal.interrupt()
    assert stopped is not None and "KeyboardInterrupt" in stopped.text
    assert terminal.running is None


def test_when_a_command_never_listens_then_it_is_ready_only_after_the_quiet_period(terminal):
    ready = Readiness()  # the default: a listening port, or 2 s of quiet
    started = time.monotonic()
    result = terminal.start("echo quiet server; sleep 60", ready=ready, timeout=30)
    took = time.monotonic() - started
    assert result.status is None and result.output == "quiet server\n"
    assert ready.quiet <= took < ready.quiet + 10, f"ready after {took:.1f} s, not {ready.quiet} s"
    terminal.interrupt()


@pytest.mark.parametrize("rule", ["pattern", "url"])
def test_when_readiness_rule_is_met_then_background_start_returns(terminal, rule):
    port = free_port()
    command = f"{sys.executable} -u -m http.server {port} --bind 127.0.0.1"
    ready = {
        "pattern": Readiness(pattern=r"Serving HTTP on \S+ port \d+"),
        "url": Readiness(url=f"http://127.0.0.1:{port}/"),
    }[rule]
    result = terminal.start(command, ready=ready, timeout=20)
    assert result.status is None
    terminal.interrupt()


def test_when_a_background_command_ends_early_then_its_status_is_returned(terminal):
    result = terminal.start("echo broken; exit_code() { return 3; }; exit_code", timeout=20)
    assert result.status == 3 and terminal.running is None


def test_when_background_output_arrives_later_then_transcript_and_interrupt_show_it(terminal):
    command = "echo first; read line; echo later:$line; sleep 60"
    terminal.start(command, ready=Readiness(pattern="first"))
    terminal.send_input("typed\n")
    wait_until(lambda: "later:typed" in terminal.transcript.text())
    stopped = terminal.interrupt()
    assert "later:typed" in stopped.text


def test_when_the_shell_exits_then_the_terminal_says_so(terminal):
    result = terminal.run("exit 3")
    assert result.exited and result.status == 3 and terminal.exited
    with pytest.raises(TerminalExited, match="exited with status 3"):
        terminal.run("echo too late")


def test_when_closed_then_daemons_started_in_the_terminal_are_gone(tmp_path, no_leftover_processes):
    term = Terminal(cwd=str(tmp_path))
    term.run("nohup sleep 301 >/dev/null 2>&1 & setsid sleep 302 & (setsid sleep 303 &)")
    wait_until(lambda: len(_sleepers(no_leftover_processes)) == 3)
    term.close()
    term.close()  # twice is fine
    assert not _sleepers(no_leftover_processes)
    assert not os.path.exists(term._process.scratch)


def test_when_the_owning_process_is_killed_then_the_watchdog_kills_everything(
    tmp_path, no_leftover_processes
):
    script = (
        "from modwsgi_magics import Terminal\n"
        "t = Terminal()\n"
        "t.run('nohup sleep 311 >/dev/null 2>&1 & (setsid sleep 312 &)')\n"
        "print('ready', flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=tmp_path)
    assert owner.stdout.readline() == b"ready\n"
    wait_until(lambda: len(_sleepers(no_leftover_processes)) == 2)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    owner.stdout.close()
    wait_until(lambda: not _sleepers(no_leftover_processes))
    wait_until(lambda: not tagged_processes(no_leftover_processes))


def _sleepers(tag: str) -> list[psutil.Process]:
    found = []
    for proc in tagged_processes(tag):
        with contextlib.suppress(psutil.Error):  # a subshell that has just ended
            if proc.name() == "sleep":
                found.append(proc)
    return found


def test_when_repr_is_read_then_it_looks_like_the_constructor(terminal, tmp_path):
    assert repr(terminal) == f"Terminal(name='1', shell='bash', cwd='{tmp_path}')"


def test_when_a_background_command_is_not_ready_in_time_then_it_is_stopped(terminal):
    with pytest.raises(CommandTimeout, match="was not ready within 0.5 s"):
        terminal.start("echo waiting; sleep 60", ready=Readiness(pattern="never"), timeout=0.5)
    assert terminal.running is None
    assert terminal.run("echo free").text == "free\n"


@pytest.mark.parametrize(
    "command",
    [
        f"{sys.executable} -c 'import getpass; getpass.getpass()'",  # reads /dev/tty
        f"{sys.executable} -i",  # readline waits in select(2)
        "bash",  # a nested shell
        "cat",
    ],
)
def test_when_a_program_waits_for_the_keyboard_then_it_fails_fast(terminal, command):
    terminal.run("KEEP=1")
    with pytest.raises(InputRequired):
        terminal.run(command, timeout=20)
    assert terminal.run("echo $KEEP").text == "1\n"


def test_when_a_server_waits_on_a_socket_then_it_is_not_taken_for_a_prompt(terminal):
    with pytest.raises(CommandTimeout):
        terminal.run(f"{sys.executable} -m http.server 0 --bind 127.0.0.1", timeout=1.5)


def test_when_input_is_left_unread_then_it_is_not_run_as_a_command(terminal, tmp_path):
    terminal.run("echo hi", input=f"touch {tmp_path}/injected\n")
    terminal.run("read a", input="one\ntwo\n")
    assert terminal.run("echo $a").text == "one\n"
    assert not (tmp_path / "injected").exists()
    assert "command not found" not in terminal.transcript.text()


def test_when_a_cell_traces_or_echoes_then_the_engine_stays_hidden(terminal):
    terminal.run("set -x")
    traced = terminal.run("echo hi").output
    terminal.run("set +x; set -v")
    verbose = terminal.run("echo v").output
    terminal.run("set +v; stty sane")
    echoed = terminal.run("echo e").output
    for output in (traced, verbose, echoed):
        assert "__modwsgi_magics" not in output and "source" not in output
    assert traced.endswith("echo hi\nhi\n") and verbose == "echo v\nv\n" and echoed == "e\n"


def test_when_a_cell_assigns_prompt_command_then_it_fails_and_the_terminal_lives(terminal):
    result = terminal.run("PROMPT_COMMAND='history -a'")
    assert result.status == 1 and "readonly variable" in result.text
    assert terminal.run("echo alive").text == "alive\n"


def test_when_output_ends_in_half_an_escape_then_the_next_command_is_whole(terminal):
    terminal.run("printf 'x\\033'")
    assert terminal.run("echo next").text == "next\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("f() { false; echo in-f; }\nf\necho after", 2),
        ("( false; echo in-subshell )\necho after", 1),
    ],
)
def test_when_a_function_or_subshell_fails_then_the_cell_stops_at_its_call(terminal, body, line):
    result = terminal.run(body)
    assert (result.status, result.failed_line, result.text) == (1, line, "")


def test_when_input_is_bigger_than_the_terminal_buffer_then_all_of_it_arrives(terminal):
    lines = "".join(f"{n:09}\n" for n in range(20_000))  # 200,000 characters
    assert terminal.run("head -n 20000 | wc -l", input=lines).text.strip() == "20000"


def test_when_the_folder_does_not_exist_then_the_start_error_names_it():
    with pytest.raises(TerminalStartError, match="could not start in /no/such/folder"):
        Terminal(cwd="/no/such/folder")


#: A program that shrugs off Ctrl-C and ticks for a minute.
STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "for _ in range(600):\n"
    '    print("tick")\n'
    "    time.sleep(0.1)"
)


def test_when_stop_is_pressed_twice_then_the_next_signal_goes_at_once(terminal):
    presses = []

    def press_stop(text):  # pressed on the first two ticks
        if len(presses) < 2:
            presses.append(text)
            raise KeyboardInterrupt

    with pytest.raises(CommandInterrupted):
        terminal.run(f"{sys.executable} -u -c '{STUBBORN}'", on_output=press_stop)
    assert len(presses) == 2 and terminal.running is None
    assert terminal.run("echo idle").text == "idle\n"


# Cells that fail only where failing is allowed, or that leave `$_` alone:
# the check for commands bash dropped must pass them all.
LEGITIMATE_CELLS = [
    "[[ -f /nonexistent ]] || echo missing",
    "f() { echo in-f; }\nfalse || f",
    "printf 'echo sourced\\n' > sourced.sh\nfalse || source sourced.sh",
    "true | cat\n(exit 1) || echo subshell",
    "x=$(false) || echo assignment",
    "false && echo no\necho yes",
    "! true\necho yes",
    "grep -q nothing /dev/null || echo no-match",
    "set -o pipefail\nfalse | cat || echo pipefail\nset +o pipefail",
    "for i in 1 2; do [[ $i == 3 ]] && echo three; done\necho loop",
    "g() { return 1; }\ng || echo g-failed",
    "h() { [[ -n '' ]] && echo x; }\nh || echo h-failed",
    "sleep 0.1 &\nwait\necho waited",
    "(( 0 )) || echo arithmetic",
    "false || . /dev/null\necho dot",
    "echo a | while read -r line; do echo got $line; done\necho piped",
    "f2() { false || g2; }; g2() { echo g2; }\nf2",
    "exit_code() {\n  return 3\n}\nexit_code || echo three",
    "set -u\necho ${UNSET_WITH_DEFAULT:-default}\nset +u",
]


@pytest.mark.parametrize("body", LEGITIMATE_CELLS)
def test_when_failing_is_allowed_where_it_happens_then_a_strict_cell_passes(terminal, body):
    result = terminal.run(body)
    assert (result.status, result.failed_line) == (0, None), result.output


def test_when_a_command_reads_dollar_underscore_then_it_gets_the_last_word(terminal, tmp_path):
    result = terminal.run(f"mkdir -p {tmp_path}/made && cd $_ && pwd\necho one two\necho $_")
    assert result.output == f"{tmp_path}/made\none two\ntwo\n"
