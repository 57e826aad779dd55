"""A job: one command handed to a terminal, from its typed line to its result.

The job owns its command's life. The terminal's reader thread feeds it
(:meth:`Job.output`, :meth:`Job.end`) under the terminal's lock; the caller's
thread takes the events it queued, counts the text against the watching cell's
:class:`~modwsgi_magics.engine.output.OutputBudget` and shows what fits
through that cell's callback. A ``--bg`` job outlives its first cell; a later
cell (``<ctrl-c>``, lines typed into a REPL) watches it again with a budget
and callback of its own. :meth:`Job.result` sums up what the watching cell saw.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .output import OutputBudget, plain_text
from .protocol import dropped_line
from .results import RunResult

#: Shows a piece of a command's output; what it returns is ignored (``sys.stdout.write``).
OutputCallback = Callable[[str], object]
#: What the reader thread puts on a job's queue.
Event = tuple[Literal["output"], str] | tuple[Literal["done"], None]

#: Latest output kept raw per job, for --wait-for patterns and input prompts.
RECENT_CHARS = 8192


@dataclass
class Job:
    seq: int
    command: str
    background: bool
    budget: OutputBudget
    on_output: OutputCallback | None = None  # the watching cell's
    strict: bool = False  # the cell stops at its first failure
    started: float = field(default_factory=time.monotonic)
    events: queue.SimpleQueue[Event] = field(default_factory=queue.SimpleQueue)
    listening: bool = True  # False while a --bg command runs with no cell watching
    recent: str = ""
    seen_until: int = 0  # transcript position a watching cell has shown up to
    status: int | None = None
    failed_line: int | None = None
    exited: bool = False
    begun: bool = False  # bash reported that it started the cell
    ctrl_c_sent: bool = False  # the engine pressed Ctrl-C for this job
    never_started: bool = False  # that Ctrl-C discarded the typed line
    expanded: str = ""  # the text bash expanded for this job (its readiness URL)
    typed: bool = False  # a command a learner entered in a view (terminal.send_keys)

    # -- from the reader thread, under the terminal's lock -----------------------

    def output(self, text: str) -> None:
        if self.listening:
            self.events.put(("output", text))

    def end(
        self,
        status: int,
        failed_line: int | None = None,
        *,
        exited: bool = False,
        never_started: bool = False,
    ) -> None:
        """The command is over: its prompt came, or the shell ended."""
        self.status, self.failed_line = status, failed_line
        self.exited, self.never_started = exited, never_started
        self.events.put(("done", None))

    @property
    def ended(self) -> bool:
        return self.status is not None

    # -- on the caller's thread ----------------------------------------------------

    def watch(self, budget: OutputBudget, on_output: OutputCallback | None, unseen: str) -> None:
        """A new cell watches this job: from ``unseen`` on, within ``budget``."""
        self.budget, self.on_output = budget, on_output
        self.events, self.listening = queue.SimpleQueue(), True
        if unseen:
            self.events.put(("output", unseen))

    def unwatch(self, transcript_end: int) -> None:
        """The watching cell returns; the job runs on (``--bg``)."""
        self.listening, self.seen_until, self.on_output = False, transcript_end, None

    def next_event(self, timeout: float) -> Event | tuple[None, None]:
        """The next event, or ``(None, None)`` when ``timeout`` passes first."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None, None

    def show(self, text: str) -> None:
        """Count ``text`` against the cell's budget and show what fits now."""
        shown = self.budget.feed(text)
        if shown and self.on_output:
            self.on_output(shown)
        self.recent = (self.recent + text)[-RECENT_CHARS:]

    def recent_text(self) -> str:
        return plain_text(self.recent)

    def prompt(self) -> str:
        """The last line shown: what a command waiting for input asked."""
        lines = self.recent_text().rstrip("\n").rsplit("\n", 1)
        return lines[-1] if lines else ""

    def result(self, cwd: str, virtualenv: str, *, finished: bool | None = None) -> RunResult:
        """Show the output that came with the end, then the tail; sum it all up.

        ``finished``: whether the watching cell is over with this job (the
        default: the job ended, or it was a foreground command), so the
        budget's tail is shown.
        """
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if event[0] == "output":
                self.show(event[1])
        if finished is None:
            finished = self.ended or not self.background
        tail = self.budget.finish() if finished else ""
        if tail and self.on_output:
            self.on_output(tail)
        output = self.budget.kept() if finished else "".join(self.budget.head)
        status, failed_line = self.status, self.failed_line
        if self.strict and failed_line is None and status is not None and status < 128:
            # bash dropped a command it could not expand and went on: that
            # command failed, and a strict cell fails with it.
            dropped = dropped_line(output, self.command)
            if dropped is not None:
                status, failed_line = status or 1, dropped
        return RunResult(
            command=self.command,
            output=output,
            status=status,
            duration=time.monotonic() - self.started,
            failed_line=failed_line,
            omitted=self.budget.omitted,
            exited=self.exited,
            cwd=cwd,
            virtualenv=virtualenv,
        )
