"""What a cell can end with: short, named errors about a terminal.

IPython shows an exception through its ``_render_traceback_`` when it has one,
and nbclient reports it as the cell's error, so a failed workshop step reads as
a few lines naming the terminal, the line and the exit status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .output import first_line, shorten

if TYPE_CHECKING:
    from .results import RunResult

_RED, _RESET = "\x1b[31m", "\x1b[0m"


class TerminalError(Exception):
    """Base class: rendered in a cell as ``Name: message``, nothing more."""

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (type(self), (str(self),))

    def _render_traceback_(self) -> list[str]:
        first, *rest = str(self).splitlines() or [""]
        return [f"{_RED}{type(self).__name__}{_RESET}: {first}", *rest]


def _quote(command: str, width: int = 60) -> str:
    """The command's first line, shortened, in backticks."""
    return f"`{shorten(first_line(command), width)}`"


class CommandFailed(TerminalError, RuntimeError):
    """A command of the cell exited with a non-zero status."""

    @classmethod
    def from_result(cls, terminal: str, result: RunResult) -> CommandFailed:
        where = f"line {result.failed_line}: " if result.failed_line else ""
        failing = result.failed_command or result.command
        text = f"terminal {terminal}: {where}{_quote(failing)} exited with status {result.status}"
        if result.failed_line and result.failed_line < len(result.command.rstrip().splitlines()):
            text += "\nthe lines after it were not run; --allow-error runs them all"
        return cls(text)

    @classmethod
    def before_ready(cls, terminal: str, result: RunResult) -> CommandFailed:
        return cls(
            f"terminal {terminal}: {_quote(result.command)} ended with status "
            f"{result.status} before it was ready"
        )


class CommandTimeout(TerminalError, TimeoutError):
    """A command ran longer than ``--timeout`` and was interrupted."""

    @classmethod
    def from_command(cls, terminal: str, command: str, seconds: float) -> CommandTimeout:
        return cls(
            f"terminal {terminal}: {_quote(command)} did not finish within {seconds:g} s "
            "and was interrupted (Ctrl-C)"
        )

    @classmethod
    def not_ready(cls, terminal: str, command: str, seconds: float, rule: str) -> CommandTimeout:
        return cls(
            f"terminal {terminal}: {_quote(command)} was not ready within {seconds:g} s "
            f"({rule}) and was interrupted (Ctrl-C)"
        )


class CommandInterrupted(TerminalError, RuntimeError):
    """The kernel was interrupted (stop button, nbclient timeout) mid-command."""

    @classmethod
    def from_command(cls, terminal: str, command: str) -> CommandInterrupted:
        return cls(
            f"terminal {terminal}: interrupted {_quote(command)} (Ctrl-C); "
            "the terminal keeps its state"
        )

    @classmethod
    def after_end(cls, terminal: str, command: str) -> CommandInterrupted:
        return cls(f"terminal {terminal}: the stop came after {_quote(command)} had ended")

    @classmethod
    def not_started(cls, terminal: str, command: str) -> CommandInterrupted:
        return cls(
            f"terminal {terminal}: stopped before {_quote(command)} started; nothing of it "
            "ran, and the terminal keeps its state"
        )


class InputRequired(TerminalError, RuntimeError):
    """A command waits for keyboard input and none can be asked for."""

    @classmethod
    def from_prompt(cls, terminal: str, command: str, prompt: str) -> InputRequired:
        shown = f" at {prompt.strip()[-60:]!r}" if prompt.strip() else ""
        return cls(
            f"terminal {terminal}: {_quote(command)} waits for keyboard input{shown}, "
            "and this notebook cannot ask for it.\n"
            "Give the answer with --input 'TEXT\\n'; the command was interrupted."
        )


class ProgramEnded(TerminalError, RuntimeError):
    """Lines were meant for a program that ended (or was not there) first."""

    @classmethod
    def before_typing(cls, terminal: str, text: str) -> ProgramEnded:
        return cls(f"terminal {terminal}: nothing runs there to type {_quote(text)} into")

    @classmethod
    def lines_left(cls, terminal: str, command: str, lines: list[str]) -> ProgramEnded:
        return cls(
            f"terminal {terminal}: {_quote(command)} ended before {len(lines)} line(s) were "
            f"typed into it, from {_quote(lines[0])}; they were not typed"
        )


class TerminalBusy(TerminalError, RuntimeError):
    """The terminal still runs a ``--bg`` command; nothing is typed into it."""

    @classmethod
    def from_command(cls, terminal: str, command: str, seconds: float) -> TerminalBusy:
        return cls(
            f"terminal {terminal} is busy: {_quote(command)} has run for {seconds:.0f} s.\n"
            f"Stop it with a cell `%%execute{terminal}` holding <ctrl-c>, or "
            f"`%terminal interrupt {terminal}`; or use the other terminal."
        )


class TerminalExited(TerminalError, RuntimeError):
    """The shell of a terminal ended (``exit``, or it died)."""

    @classmethod
    def from_status(
        cls, terminal: str, status: int | None, errexit: bool = False
    ) -> TerminalExited:
        if status is not None and status < 0:
            how = f"was killed by signal {-status}"
        else:
            how = f"exited with status {status}"
        why = " (`set -e` was on: a failing command ends the shell)" if errexit else ""
        return cls(
            f"terminal {terminal}: the shell {how}{why}; its variables, cwd and virtualenv "
            "are gone.\nThe next command starts a fresh shell."
        )


class TerminalStartError(TerminalError, OSError):
    """The terminal's shell could not be started."""


class ExpectationFailed(TerminalError, AssertionError):
    """The cell's output did not match an ``--expect`` pattern."""

    @classmethod
    def from_output(cls, terminal: str, pattern: str, output: str) -> ExpectationFailed:
        last = [line for line in output.splitlines() if line.strip()][-3:]
        shown = "\n".join("  | " + line[:200] for line in last) or "  (no output)"
        return cls(
            f"terminal {terminal}: output does not match --expect {pattern!r}; it ended with:\n"
            + shown
        )
