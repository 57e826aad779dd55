"""The engine: one terminal, an interactive bash on its own pseudo-terminal.

Nothing here imports IPython; any Python program can drive a terminal::

    with Terminal() as t:
        result = t.run("cd /tmp && echo hi")
        result.output, result.status, result.duration

How it works, and why, is described once in :mod:`.protocol`: a watchdog
(``watchdog.py``) starts bash on a pty and ends everything the terminal started
once the kernel goes away; each cell is sourced from a file; its end comes
through a FIFO, out of band; a reader thread (``reader.py``) drains the pty
all the time, so a ``--bg`` server never blocks on a full terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator

from . import probes
from .errors import (
    CommandInterrupted,
    CommandTimeout,
    InputRequired,
    ProgramEnded,
    TerminalBusy,
    TerminalExited,
    TerminalStartError,
)
from .job import Job, OutputCallback
from .output import OutputBudget, TailBuffer, first_line, shorten
from .protocol import StatusRecord, cell_file_text, first_return_line, run_line
from .reader import TerminalReader
from .results import Readiness, RunResult, TerminalStatus
from .shell import ShellProcess
from .view import TerminalFeed, typed_line

#: Quiet time after which the engine checks whether a command waits for input.
INPUT_CHECK_AFTER = 0.3
#: How long a stopped job's remaining processes (a server's workers) get to exit.
GROUP_EXIT_TIMEOUT = 10.0
#: How often background readiness and input checks run while a command is quiet.
POLL_INTERVAL = 0.1
#: Stopping a foreground job: Ctrl-C as a learner would, then signals to its
#: process group (never to the shell), each followed by a grace period.
STOP_ESCALATION: tuple[tuple[signal.Signals | None, float], ...] = (
    (None, 3.0),  # Ctrl-C typed into the terminal
    (signal.SIGTERM, 2.0),
    (signal.SIGKILL, 2.0),
)
#: How long a command waiting for input gets to end after Ctrl-D.
EOF_GRACE = 1.0
#: How often a pressed Ctrl-C checks whether a new command took the terminal.
CTRL_C_RECHECK = 0.05
#: How long a status record seen in the FIFO gets to reach the engine.
STATUS_GRACE = 0.5
#: Quiet time after a line typed into a program before checking it waits again.
TYPED_LINE_QUIET = 0.05
#: Quiet time after which a relay to a program elsewhere (``ssh``, ``docker run
#: -it``) counts as waiting for input: what waits behind it cannot be seen.
RELAY_QUIET = 1.0
#: How long a line a learner entered in a view counts as not yet read: keys
#: written to the pty reach bash's side a moment later, so bash may still sit
#: in read() with nothing to read (and look as if waiting for input).
TYPED_LINE_SETTLE = 0.1
#: How long a cell waits for a command the learner typed into a view to end
#: (``cd app`` takes a moment to reach bash's next prompt) before it is refused.
TYPED_COMMAND_WAIT = 1.0

InputCallback = Callable[[str], str | None]


class Terminal:
    """An interactive bash on a pty, with its state kept from command to command."""

    def __init__(
        self,
        name: str = "1",
        *,
        shell: str = "bash",
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        columns: int = 120,
        rows: int = 40,
        max_output_chars: int = 1_000_000,
        transcript_bytes: int = 1_000_000,
        start_timeout: float = 20.0,
    ) -> None:
        if not re.fullmatch(r"bash[\d.]*", os.path.basename(shell)):
            raise ValueError(f"a terminal runs bash (its protocol is bash's), not {shell!r}")
        self.name = name
        self.shell = shell
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.virtualenv = ""
        self.max_output_chars = max_output_chars
        self.last_status: int | None = None
        self.exit_status: int | None = None
        self.errexit = False  # `set -e` on in the shell: its next failure ends it
        self.transcript = TailBuffer(transcript_bytes)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a job ends
        self._job: Job | None = None
        self._feed: TerminalFeed | None = None
        self._typed = ""  # what a view typed at the prompt since its last Enter
        self._home = (env if env is not None else os.environ).get("HOME", "")
        self._seq = 0
        self._last_output = time.monotonic()
        self._started = threading.Event()
        try:
            self._process = ShellProcess(shell, self.cwd, env, columns, rows)
        except TerminalStartError as err:
            raise TerminalStartError(f"terminal {name}: {err}") from None
        self.pid = self._process.pid
        self.tty_path = self._process.tty_path
        self._master = self._process.master
        reader = TerminalReader(self._process, self._on_text, self._on_record, self._on_exit, name)
        self._reader = reader
        reader.start()
        self._finalizer = weakref.finalize(self, _teardown, self._process, reader.thread)
        if not self._started.wait(start_timeout) or self.exit_status is not None:
            output = self.transcript.text()
            self.close()
            raise TerminalStartError(f"terminal {name}: {shell} did not start\n{output}".strip())

    def close(self) -> None:
        """End the shell and every process started from it. Safe to call twice."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    @property
    def exited(self) -> bool:
        """True once the shell has ended (``exit``, killed) or the terminal closed."""
        return self.exit_status is not None or self.closed

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Terminal(name={self.name!r}, shell={self.shell!r}, cwd={self.cwd!r})"

    # -- what the reader thread reports ------------------------------------------

    def _on_text(self, text: str) -> None:
        with self._lock:
            self.transcript.append(text)
            self._last_output = time.monotonic()
            if self._job is not None:
                self._job.output(text)

    def _on_record(self, record: StatusRecord) -> None:
        if record.kind == "begin":
            with self._lock:
                if self._job is not None and self._job.seq == record.seq:
                    self._job.begun = True
                    self._job.expanded = record.expanded
            return
        self.cwd, self.virtualenv = record.cwd, record.virtualenv
        self.errexit = "e" in record.flags
        if self._feed is not None:
            self._feed.prompt(record.cwd, record.virtualenv)
        if record.seq == 0 and not self._started.is_set():
            self._started.set()
            return
        with self._lock:
            if self._end_job(record) and self._feed is not None:
                # Idle at a prompt with a view: keys typed there echo, as in
                # any terminal. A cell turns echo off again before it types;
                # a stray prompt (Ctrl-C at an idle shell) changes nothing.
                self._process.set_echo(True)

    def _end_job(self, record: StatusRecord) -> bool:
        """End the job that ``record`` (a prompt) says has ended; False when it
        ends none. Call with the lock."""
        job = self._job
        if job is None:
            return False  # a prompt after Ctrl-C on an idle shell, say
        if job.seq == record.seq:
            self.last_status = record.status
            if record.failed_line == -1:  # a `return` at the cell's top level
                job.end(record.failed_status or 1, first_return_line(job.command))
            elif record.failed_status is not None:
                job.end(record.failed_status, record.failed_line)
            else:
                job.end(record.status)
        elif job.ctrl_c_sent and not job.begun:
            # Our Ctrl-C reached bash before it read the typed line, which
            # the terminal then discarded: the cell never started.
            job.end(130, never_started=True)
        else:
            return False
        self._job = None
        self._idle.notify_all()
        return True

    def _on_exit(self, code: int) -> None:
        with self._lock:
            self.exit_status = code
            job, self._job = self._job, None
            if job is not None:
                job.end(code, exited=True)
            self._idle.notify_all()
        if self._feed is not None:
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            self._feed.ended(f"terminal {self.name}: the shell ended ({how})")
        self._started.set()

    # -- running commands -----------------------------------------------------

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        strict: bool = True,
        input: str | None = None,
        on_output: OutputCallback | None = None,
        on_input: InputCallback | None = None,
    ) -> RunResult:
        """Run ``command`` as if typed into this terminal; wait for it to end.

        ``strict`` stops at the first failing command (its line is in the
        result). ``input`` is typed ahead for the command to read. When the
        command waits for input anyway, ``on_input(prompt)`` is asked for a
        line; if it returns None (or is None) the command is interrupted and
        :class:`~modwsgi_magics.engine.errors.InputRequired` raised. On
        ``timeout`` the command is interrupted and ``CommandTimeout`` raised.

        When a program started earlier (``start("python3")``) waits for
        keyboard input in this terminal, ``command`` is typed into it instead,
        line by line (see :meth:`type_lines`).
        """
        if self._job is not None and self.waits_for_input():
            return self.type_lines(command, timeout=timeout, on_output=on_output)
        job: Job | None = None
        deadline = time.monotonic() + timeout if timeout else None
        try:
            with _interrupts_deferred() as pressed:
                job = self._submit(command, strict, input, False, on_output)
            if pressed:
                raise KeyboardInterrupt
            while True:
                outcome = self._follow(job, deadline, watch_input=True)
                if outcome == "done":
                    return job.result(self.cwd, self.virtualenv)
                if outcome == "deadline":
                    assert timeout is not None  # only a timeout sets a deadline
                    self._stop(job)
                    raise CommandTimeout.from_command(self.name, command, timeout)
                prompt = job.prompt()
                answer = on_input(prompt) if on_input else None
                if answer is None:
                    self._end_input(job)
                    raise InputRequired.from_prompt(self.name, command, prompt)
                self.send_input(answer)
        except KeyboardInterrupt:
            raise self._interrupted(job, command) from None

    def start(
        self,
        command: str,
        *,
        ready: Readiness | None = None,
        timeout: float | None = None,
        strict: bool = True,
        input: str | None = None,
        on_output: OutputCallback | None = None,
    ) -> RunResult:
        """Start ``command`` in the background; return once it is ready.

        Ready is what ``ready`` says, or as soon as the program waits for
        keyboard input (a REPL, a nested shell: later commands are typed into
        it). The terminal stays busy until the command ends or
        :meth:`interrupt` stops it. If it ends before it is ready, the result
        has its status.
        """
        if self._job is not None and self.waits_for_input():
            return self.type_lines(command, timeout=timeout, on_output=on_output)
        ready = ready or Readiness()
        exclude = probes.descendant_pids(self._process.watchdog_pid)
        job: Job | None = None
        deadline = time.monotonic() + timeout if timeout else None
        try:
            with _interrupts_deferred() as pressed:
                expand = ready.url if ready.url and "$" in ready.url else None
                job = self._submit(command, strict, input, True, on_output, expand)
            if pressed:
                raise KeyboardInterrupt
            outcome = self._follow(job, deadline, ready=ready, exclude=exclude, watch_input=True)
        except KeyboardInterrupt:
            raise self._interrupted(job, command) from None
        if outcome == "deadline":
            assert timeout is not None  # only a timeout sets a deadline
            self._stop(job)
            raise CommandTimeout.not_ready(self.name, command, timeout, ready.describe())
        if outcome == "done":
            return job.result(self.cwd, self.virtualenv)
        with self._lock:
            result = job.result(self.cwd, self.virtualenv, finished=False)
            job.unwatch(self.transcript.end)
        return result

    def type_lines(
        self,
        text: str,
        *,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
    ) -> RunResult:
        """Type ``text`` into the program that runs here, a line each time it
        waits for keyboard input, as a learner at its prompt would.

        Returns when the program waits again after the last line (the result's
        status is None: it still runs), or when it ended and the shell is back
        (its status). Lines left when it ended are not typed:
        :class:`~modwsgi_magics.engine.errors.ProgramEnded`.
        """
        with self._lock:
            job = self._job
            if job is None:
                raise ProgramEnded.before_typing(self.name, text)
            budget = OutputBudget(self.max_output_chars, job.budget.hint)
            job.watch(budget, on_output, "")
        lines = (text[:-1] if text.endswith("\n") else text).split("\n")
        deadline = time.monotonic() + timeout if timeout else None
        try:
            for number, line in enumerate(lines, 1):
                if number > 1:
                    outcome = self._follow(job, deadline, watch_input=True, typing=True)
                    if outcome == "done":
                        job.result(self.cwd, self.virtualenv)
                        raise ProgramEnded.lines_left(self.name, job.command, lines[number - 1 :])
                    if outcome == "deadline":
                        break
                self._process.type(line.encode() + b"\n")
            else:
                outcome = self._follow(job, deadline, watch_input=True, typing=True)
            if outcome == "deadline":
                assert timeout is not None  # only a timeout sets a deadline
                self._stop(job, settle=True)
                raise CommandTimeout.from_command(self.name, text, timeout)
        except KeyboardInterrupt:
            self._stop(job, settle=True)
            raise CommandInterrupted.from_command(self.name, text) from None
        with self._lock:
            result = job.result(self.cwd, self.virtualenv, finished=True)
            if not job.ended:
                job.unwatch(self.transcript.end)
        result.command = text
        return result

    def interrupt(self, on_output: OutputCallback | None = None) -> RunResult | None:
        """Ctrl-C the running command, wait for the prompt; return what it printed.

        The result's output starts with what a ``--bg`` command printed after
        its cell returned. A program that survives Ctrl-C at its own prompt (a
        REPL) is left there, running. Returns None when the terminal was idle.
        """
        with self._lock:
            job = self._job
            if job is None:
                return None
            budget = OutputBudget(self.max_output_chars, job.budget.hint)
            job.watch(budget, on_output, self.transcript.since(job.seen_until))
        self._stop(job, settle=True)
        with self._lock:
            result = job.result(self.cwd, self.virtualenv, finished=True)
            if not job.ended:
                job.unwatch(self.transcript.end)
        return result

    def send_input(self, text: str) -> None:
        """Type ``text`` into the terminal, as a learner at the keyboard would."""
        self._process.type(text.encode())

    def waits_for_input(self) -> bool:
        """True when what runs here waits for keyboard input (a prompt, a REPL).

        Not while keys typed into it are still unread: a line a learner just
        entered in a view (``sleep 100``) is bash's to read, not an answer.
        """
        if self._process.unread_input():
            return False
        job = self._job
        if job is not None and job.typed and time.monotonic() - job.started < TYPED_LINE_SETTLE:
            return False  # the keys may still be on their way through the pty
        quiet = time.monotonic() - self._last_output
        return self._waits_for_input(quiet)

    # -- views (engine/view.py) -------------------------------------------------

    def watch(self) -> TerminalFeed:
        """The terminal as a screen shows it, for views such as the JupyterLab panel.

        From the first call on, the feed keeps the scrollback and, while the
        terminal is idle, its tty echoes what is typed (:meth:`send_keys`).
        """
        with self._lock:
            if self._feed is None:
                self._feed = TerminalFeed(
                    self._process.cell_path, home=self._home, limit=self.transcript.limit
                )
                self._feed.cwd, self._feed.virtualenv = self.cwd, self.virtualenv
                self._reader.on_bytes = self._feed.feed
                if self._job is None and not self.exited:
                    self._feed.prompt(self.cwd, self.virtualenv)
                    self._process.set_echo(True)
            return self._feed

    def send_keys(self, text: str) -> None:
        """Keys a learner typed into a view: a command, Ctrl-C, an answer, REPL keys.

        A line entered at the idle prompt makes the terminal busy, as a cell's
        command does, until bash's next prompt; a cell meanwhile waits a moment
        for it (``cd app``), then is refused (``sleep 100``, a server) with
        :class:`TerminalBusy` naming it. Keys typed while something runs go to it.
        """
        with self._lock:
            if self._job is not None and not self._job.typed and self._feed is not None:
                # A cell's command runs with echo off; a terminal would show ^C.
                self._feed.show_keys("^C" * text.count("\x03"))
            if self._job is not None or self.exited:
                self._typed = ""
            else:
                line, entered, self._typed = typed_line(self._typed, text)
                if entered:
                    budget = OutputBudget(self.max_output_chars)
                    job = Job(self._seq, line.strip(), True, budget, listening=False)
                    job.typed = job.begun = True
                    job.seen_until = self.transcript.end
                    self._job = job
        self._process.type(text.encode())

    @property
    def size(self) -> tuple[int, int]:
        """Rows and columns, as programs see them ((0, 0) once closed)."""
        try:
            return self._process.size()
        except OSError:
            return 0, 0

    def resize(self, rows: int) -> None:
        """Give programs ``rows`` lines (a view's height). The width stays the
        engine's (``columns``), so that cells print as they did without a view."""
        self._process.resize(rows=max(5, min(rows, 1000)))

    def latest_output(self, lines: int, quiet: float = 0.1, timeout: float = 1.0) -> str:
        """The transcript's last ``lines``, once output has paused for ``quiet`` s.

        A server's log line can still be on its way through the pty when the
        request that caused it has returned; the pause lets it land first.
        """
        deadline = time.monotonic() + timeout
        end = self.transcript.end
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if self.transcript.end == end:
                break
            end = self.transcript.end
        with self._lock:
            text = self.transcript.text()
        return "".join(text.splitlines(keepends=True)[-lines:])

    def clear(self) -> None:
        """Forget the kept transcript (what ``%terminal show`` would print)."""
        with self._lock:
            self.transcript.clear()
            if self._job is not None:
                self._job.seen_until = self.transcript.end

    @property
    def running(self) -> tuple[str, float] | None:
        """The command running in the background and for how long, if any."""
        job = self._job
        return (job.command, time.monotonic() - job.started) if job else None

    def status(self) -> TerminalStatus:
        running = self.running
        if self.exited:
            state = "exited" if self.exit_status is not None else "closed"
        elif running:
            state = f"running {shorten(first_line(running[0]), 40)!r} for {running[1]:.0f} s"
        else:
            state = "idle"
        return TerminalStatus(
            self.name, state, self.pid, self.cwd, self.last_status, self.virtualenv
        )

    # -- internals ------------------------------------------------------------

    def _submit(
        self,
        command: str,
        strict: bool,
        input: str | None,
        background: bool,
        on_output: OutputCallback | None,
        expand: str | None = None,
    ) -> Job:
        """Register the job and type its run line. Call with interrupts deferred:
        a job registered but never typed would leave the terminal busy for good."""
        if self.exited:
            raise TerminalExited.from_status(self.name, self.exit_status, self.errexit)
        with self._lock:
            if self._job is not None and self._job.typed:
                self._idle.wait_for(lambda: self._job is None, TYPED_COMMAND_WAIT)
            if self._job is not None:
                busy = self._job
                raise TerminalBusy.from_command(
                    self.name, busy.command, time.monotonic() - busy.started
                )
            self._seq += 1
            hint = f"; %terminal show {self.name} has the latest output"
            budget = OutputBudget(self.max_output_chars, hint)
            job = Job(self._seq, command, background, budget, on_output, strict=strict)
            job.seen_until = self.transcript.end
            self._job = job
            if self._feed is not None:
                self._feed.command(command)
        try:
            text, ended = cell_file_text(command)
            self._process.write_cell(text)
            self._process.prepare_to_type()
            traps = strict and "trap" in command
            self._process.type(run_line(job.seq, strict, input, expand, ended=ended, traps=traps))
            if not input:  # text typed ahead is not echoed: it may still be on its way
                self._process.echo_once_queued(lambda: job.begun)
        except BaseException:
            with self._lock:
                self._job = None
            raise
        return job

    def _interrupted(self, job: Job | None, command: str) -> CommandInterrupted:
        """Stop ``job`` after the stop button; the error says whether it had started."""
        if job is None:
            return CommandInterrupted.not_started(self.name, command)
        self._stop(job)
        if job.never_started:
            return CommandInterrupted.not_started(self.name, command)
        return CommandInterrupted.from_command(self.name, command)

    def _follow(
        self,
        job: Job,
        deadline: float | None,
        *,
        ready: Readiness | None = None,
        exclude: frozenset[int] | set[int] = frozenset(),
        watch_input: bool = False,
        typing: bool = False,
    ) -> str:
        """Stream ``job``'s output until it ends ("done"), is ready ("ready"),
        waits for input ("input") or the deadline passes ("deadline").

        ``typing``: lines are being typed into a program, so its waiting is
        checked sooner, and only once it has read all that was typed.
        """
        pattern = re.compile(ready.pattern, re.MULTILINE) if ready and ready.pattern else None
        check_after = TYPED_LINE_QUIET if typing else INPUT_CHECK_AFTER
        last_output = time.monotonic()
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return "deadline"
            poll = TYPED_LINE_QUIET if typing else POLL_INTERVAL
            wait = poll if deadline is None else min(poll, deadline - now)
            event = job.next_event(wait)
            if event[0] == "done":
                return "done"
            if event[0] == "output":
                last_output = time.monotonic()
                job.show(event[1])
                if pattern and pattern.search(job.recent_text()):
                    return "ready"
                continue
            quiet = time.monotonic() - last_output
            if ready is not None and self._is_ready(job, ready, pattern, quiet, exclude):
                return "ready"
            if not watch_input or quiet < check_after:
                continue
            if typing and self._process.unread_input():
                continue
            if self._waits_for_input(quiet) and not job.ended:
                return "input"

    def _waits_for_input(self, quiet: float) -> bool:
        """What runs here waits for keyboard input; not bash back at its prompt
        with the command's status record still on its way to the reader."""
        verdict = probes.input_wait(self._master, self.pid, self.tty_path)
        waits = verdict == "waits" or (verdict == "unknown" and quiet >= RELAY_QUIET)
        if waits and self._process.status_pending():
            deadline = time.monotonic() + STATUS_GRACE
            while self._job is not None and time.monotonic() < deadline:
                time.sleep(0.005)
            if self._job is None:
                return False
            verdict = probes.input_wait(self._master, self.pid, self.tty_path)
            waits = verdict == "waits" or (verdict == "unknown" and quiet >= RELAY_QUIET)
        return waits

    def _is_ready(
        self,
        job: Job,
        ready: Readiness,
        pattern: re.Pattern[str] | None,
        quiet: float,
        exclude: frozenset[int] | set[int],
    ) -> bool:
        if pattern:
            return False
        if ready.url:
            url = job.expanded or ready.url  # "$PORT" as the cell's terminal has it
            return "$" not in url and probes.url_answers(url, timeout=POLL_INTERVAL * 5)
        return quiet >= ready.quiet or bool(
            probes.listening_ports(self._process.watchdog_pid, exclude)
        )

    def _stop(self, job: Job, settle: bool = False) -> None:
        """Stop the job's foreground process group, escalating; never the shell.

        The prompt comes back when the job's leader exits; its children (Apache's
        workers) may still hold the port for a moment, so wait for the whole
        group to go too: after Ctrl-C, the server is gone. ``settle``: a program
        back at its own prompt after Ctrl-C (a REPL) counts as stopped.
        """
        if job.ended or self._job is not job:
            return  # it ended already (the stop came as its prompt did)
        stopped_group = None
        for sig, grace in STOP_ESCALATION:
            group = self._foreground_group()
            stopped_group = group or stopped_group
            try:
                if sig is None:
                    done = self._press_ctrl_c(job, grace, settle)
                elif group is None:
                    # The shell holds the terminal itself (a builtin such as
                    # `wait` in a shell that ignores SIGINT): signal what this
                    # job started, never the shell.
                    if not self._signal_job_children(job, sig):
                        continue
                    done = self._follow(job, time.monotonic() + grace) == "done"
                else:
                    with contextlib.suppress(OSError):
                        os.killpg(group, sig)
                    done = self._follow(job, time.monotonic() + grace) == "done"
            except KeyboardInterrupt:
                continue  # the stop button, pressed again: go to the next signal now
            if done:
                if stopped_group is not None and self._job is not job:  # ended, not settled
                    probes.wait_for_group_to_end(stopped_group, GROUP_EXIT_TIMEOUT)
                return

    def _signal_job_children(self, job: Job, sig: signal.Signals) -> bool:
        """Send ``sig`` to the process groups of the shell's children that this
        job started; False when there are none."""
        groups = set()
        age = time.monotonic() - job.started + 0.05
        for child in probes.children_younger_than(self.pid, age):
            with contextlib.suppress(OSError):
                groups.add(os.getpgid(child))
        with contextlib.suppress(OSError):  # the shell itself may be gone
            groups.discard(os.getpgid(self.pid))
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, sig)
        return bool(groups)

    def _end_input(self, job: Job) -> None:
        """End a command that waits for input: Ctrl-D (end of input) first, which
        ends a REPL or a nested shell that would shrug off Ctrl-C; then stop it."""
        self._process.type(b"\x04")
        if self._follow(job, time.monotonic() + EOF_GRACE) != "done":
            self._stop(job)

    def _press_ctrl_c(self, job: Job, grace: float, settle: bool) -> bool:
        """Type Ctrl-C; type it again if it reached a command that was just ending.

        A Ctrl-C that lands between two commands of a cell interrupts bash, which
        only acts on it once the next command (``sleep 30``) ends; that command
        now owns the terminal, so it gets a Ctrl-C of its own. With ``settle``,
        a program that printed something and waits at its prompt again is done.
        """
        deadline = time.monotonic() + grace
        group = self._foreground_group()
        forked = group is not None and probes.still_the_shell(group, self.pid)
        job.ctrl_c_sent = True
        shown = len(job.recent)
        self._process.press_ctrl_c(self.pid)
        while time.monotonic() < deadline:
            step = min(deadline, time.monotonic() + CTRL_C_RECHECK)
            outcome = self._follow(job, step, watch_input=settle, typing=settle)
            if outcome == "done":
                return True
            if outcome == "input" and len(job.recent) != shown:
                return True
            current = self._foreground_group()
            if current is not None and current != group:  # not when the shell takes it back
                group = current
                forked = probes.still_the_shell(group, self.pid)
                self._process.press_ctrl_c(self.pid)
            elif (
                forked
                and group is not None
                and current == group
                and not probes.still_the_shell(group, self.pid)
            ):
                # The first Ctrl-C reached bash's fork before it became the
                # program (`sleep`), which never saw it: once more, now.
                forked = False
                self._process.press_ctrl_c(self.pid)
        return False

    def _foreground_group(self) -> int | None:
        """The terminal's foreground process group, unless it is the shell's own."""
        try:
            group = os.tcgetpgrp(self._master)
            return None if group == os.getpgid(self.pid) else group
        except OSError:
            return None


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[list[int]]:
    """Hold back Ctrl-C (KeyboardInterrupt) while the block runs; the list says
    whether one came. Only the main thread gets signals, so elsewhere this is a
    no-op, as it is where SIGINT's handler was not set from Python."""
    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        yield pressed
        return
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _teardown(process: ShellProcess, reader: threading.Thread) -> None:
    """Stop the watchdog (and with it every process of the terminal), then clean up."""
    process.stop()
    reader.join(timeout=5)
    process.release()
