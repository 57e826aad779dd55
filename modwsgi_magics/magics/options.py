"""The options every execute magic takes: declared once, checked before anything runs.

A bad value (a regex that does not compile, a URL with no scheme, a negative
timeout, ``--out 1bad``) is a :class:`~IPython.core.error.UsageError` raised
before the command reaches a terminal, so nothing is left half-started.
"""

from __future__ import annotations

import keyword
import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

from ..engine import Readiness
from ..syntax import TERMINAL_NAME, unescape

#: One shell word: quoted strings, escapes, or plain characters.
_WORD = re.compile(r"""\s*((?:'[^']*'|"(?:\\.|[^"\\])*"|\\.|[^\s'"\\])+)""")
_VALUE_OPTIONS = {
    "--wait-for",
    "--wait-url",
    "--timeout",
    "--expect",
    "--out",
    "--input",
    "--terminal",
}
#: ``localhost:8000/path`` and ``127.0.0.1:8000``: a URL with its http:// left off.
_HOST_PORT = re.compile(r"^[\w.-]+:(?:\d+|\$\w+|\$\{\w+\})(?:/.*)?$")


def execute_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Declare the execute options on ``func`` (the help of ``%%execute?``)."""
    decorators = [
        magic_arguments(),
        argument(
            "--bg",
            action="store_true",
            help="return once the command is ready and "
            "leave it running; the terminal is busy until it ends or is interrupted",
        ),
        argument("--wait-for", metavar="REGEX", help="with --bg: ready when output matches"),
        argument(
            "--wait-url",
            metavar="URL",
            help="with --bg: ready when URL answers HTTP (localhost:8000 means "
            "http://localhost:8000/; $VARS are the terminal's: http://localhost:$PORT/)",
        ),
        argument(
            "--timeout",
            metavar="SECONDS",
            help="bound on the wait: interrupt and fail (--bg: fail if not ready)",
        ),
        argument(
            "--expect",
            action="append",
            default=[],
            metavar="REGEX",
            help="fail unless the output matches (re.search, MULTILINE); repeatable",
        ),
        argument(
            "--allow-error",
            action="store_true",
            help="run every line whatever fails; never fail on an exit status",
        ),
        argument("--out", metavar="VAR", help="also store the output (plain text) in VAR"),
        argument(
            "--input",
            metavar="TEXT",
            help="text typed for the command to read; \\n is Enter, \\x04 is Ctrl-D",
        ),
        argument("--clear", action="store_true", help="clear the terminal's transcript first"),
        argument(
            "--terminal",
            metavar="NAME",
            help="run in the terminal called NAME "
            "(started on first use) instead of the magic's own",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@dataclass(frozen=True)
class ExecuteOptions:
    """The checked options of one execute magic call."""

    background: bool
    readiness: Readiness | None
    timeout: float | None
    expect: tuple[re.Pattern[str], ...]
    strict: bool
    out: str | None
    input: str | None
    clear: bool
    terminal: str | None


def parse_execute_options(magic: Any, options: str) -> ExecuteOptions:
    """Parse and check ``options`` for ``magic``; a bad one is a UsageError.

    The words are split as a shell would (quotes removed), then given to the
    magic's own argparse parser, whose errors are IPython's UsageError.
    """
    name = f"%{magic.__name__}"
    try:
        argv = shlex.split(options)
    except ValueError as err:
        raise UsageError(f"{name} {options}: {err}") from None
    args = magic.parser.parse_args(argv)
    if (args.wait_for or args.wait_url) and not args.bg:
        raise UsageError(f"{name}: --wait-for and --wait-url need --bg")
    if args.wait_for and args.wait_url:
        raise UsageError(f"{name}: give --wait-for or --wait-url, not both")
    url = args.wait_url
    if url is not None and _HOST_PORT.match(url):
        url = "http://" + url
    try:
        readiness = Readiness(pattern=args.wait_for, url=url) if args.bg else None
    except ValueError as err:
        raise UsageError(f"{name}: {err}") from None
    return ExecuteOptions(
        background=args.bg,
        readiness=readiness,
        timeout=_timeout(name, args.timeout),
        expect=tuple(_regex(name, "--expect", pattern) for pattern in args.expect),
        strict=not args.allow_error,
        out=_variable(name, args.out),
        input=unescape(args.input) if args.input is not None else None,
        clear=args.clear,
        terminal=_terminal_name(name, args.terminal),
    )


def split_options(line: str) -> tuple[str, str]:
    """Split a one-line magic into its leading ``--options`` and the raw command.

    The command keeps its quoting untouched for bash:
    ``--timeout 5 echo "$HOME"`` gives ``('--timeout 5', 'echo "$HOME"')``.
    """
    position, expects_value = 0, False
    while True:
        match = _WORD.match(line, position)
        if not match:
            return line.strip(), ""
        word = match.group(1)
        if not expects_value and not word.startswith("--"):
            return line[:position].strip(), line[match.start(1) :].strip()
        position = match.end()
        if word == "--" and not expects_value:
            return line[: match.start(1)].strip(), line[position:].strip()
        expects_value = not expects_value and word in _VALUE_OPTIONS


def _timeout(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"{name}: --timeout wants a number of seconds above 0, not {value!r}")
    return seconds


def _regex(name: str, option: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as err:
        raise UsageError(
            f"{name}: {option} {pattern!r} is not a regular expression ({err})"
        ) from None


def _terminal_name(name: str, terminal: str | None) -> str | None:
    if terminal is not None and not TERMINAL_NAME.fullmatch(terminal):
        raise UsageError(
            f"{name}: --terminal wants a name of letters, digits, '.', '_' or '-', not {terminal!r}"
        )
    return terminal


def _variable(name: str, variable: str | None) -> str | None:
    if variable is not None and (not variable.isidentifier() or keyword.iskeyword(variable)):
        raise UsageError(f"{name}: --out wants a Python variable name, not {variable!r}")
    return variable
