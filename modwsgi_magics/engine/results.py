"""What the engine hands back: plain dataclasses that the magics and CLI format."""

from __future__ import annotations

import re
import urllib.parse
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

    def __post_init__(self) -> None:
        """Refuse a rule that could never fire, before any command starts."""
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as err:
                raise ValueError(f"not a regular expression: {self.pattern!r} ({err})") from None
        if self.url is not None:
            parts = urllib.parse.urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"not an http:// or https:// URL: {self.url!r} (write http://localhost:8000/)"
                )

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
