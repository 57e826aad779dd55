"""What the engine hands back: plain dataclasses that the magics and CLI format."""

from __future__ import annotations

from dataclasses import dataclass

from .output import plain_text


@dataclass
class RunResult:
    """What one command did. ``status`` is None while a ``--bg`` command runs."""

    command: str
    output: str = ""
    status: int | None = None
    duration: float = 0.0
    failed_line: int | None = None
    omitted: int = 0
    exited: bool = False
    cwd: str = ""
    virtualenv: str = ""

    @property
    def text(self) -> str:
        """The output as plain text: no colours, progress bars at their last state."""
        return plain_text(self.output)

    @property
    def failed_command(self) -> str:
        lines = self.command.splitlines()
        if self.failed_line and 0 < self.failed_line <= len(lines):
            return lines[self.failed_line - 1]
        return ""


@dataclass(frozen=True)
class Readiness:
    """When a ``--bg`` command counts as ready: a regex, a URL, else a port or quiet."""

    pattern: str | None = None
    url: str | None = None
    quiet: float = 2.0

    def describe(self) -> str:
        if self.pattern:
            return f"waiting for output matching {self.pattern!r}"
        if self.url:
            return f"waiting for {self.url} to answer"
        return f"waiting for a listening port or {self.quiet:g} s of quiet"


@dataclass
class TerminalStatus:
    name: str
    state: str
    pid: int | None
    cwd: str
    last_status: int | None
    virtualenv: str
