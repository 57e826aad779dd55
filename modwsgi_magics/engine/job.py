"""A job: one command handed to a terminal, and what its cell has shown of it.

The terminal's reader thread puts ``("output", text)`` and ``("done", None)``
events on the job's queue; the caller's thread takes them, counts the text
against the cell's :class:`~modwsgi_magics.output.OutputBudget` and passes on
what the cell shows. The job ends up as a :class:`RunResult`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .output import OutputBudget, plain_text
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
    typed: bool = False  # a command a learner entered in a view (terminal.send_keys)

    def next_event(self, timeout: float) -> Event | tuple[None, None]:
        """The next event, or ``(None, None)`` when ``timeout`` passes first."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None, None

    def show(self, text: str, on_output: OutputCallback | None) -> None:
        """Count ``text`` against the cell's budget and show what fits now."""
        shown = self.budget.feed(text)
        if shown and on_output:
            on_output(shown)
        self.recent = (self.recent + text)[-RECENT_CHARS:]

    def recent_text(self) -> str:
        return plain_text(self.recent)

    def prompt(self) -> str:
        """The last line shown: what a command waiting for input asked."""
        lines = self.recent_text().rstrip("\n").rsplit("\n", 1)
        return lines[-1] if lines else ""

    def watch_again(self, budget: OutputBudget, unseen: str) -> None:
        """A cell watches a --bg command again (``<ctrl-c>``): start from ``unseen``."""
        self.budget, self.events, self.listening = budget, queue.SimpleQueue(), True
        if unseen:
            self.events.put(("output", unseen))

    def result(self, on_output: OutputCallback | None, cwd: str, virtualenv: str) -> RunResult:
        """Show the output that came with the end, then the tail; sum it all up."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if event[0] == "output":
                self.show(event[1], on_output)
        ended = self.status is not None
        tail = self.budget.finish() if ended or not self.background else ""
        if tail and on_output:
            on_output(tail)
        return RunResult(
            command=self.command,
            output=self.budget.kept() if ended else "".join(self.budget.head),
            status=self.status,
            duration=time.monotonic() - self.started,
            failed_line=self.failed_line,
            omitted=self.budget.omitted,
            exited=self.exited,
            cwd=cwd,
            virtualenv=virtualenv,
        )
