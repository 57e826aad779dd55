"""The IPython glue: ``%%execute`` and friends, ``%terminal``, configuration.

The magics only parse options, pick terminals and format what the engine
returns; everything about bash lives in :mod:`modwsgi_magics.engine`.
"""

from __future__ import annotations

import atexit
import getpass
import os
import re
import shlex
import sys
from collections.abc import Callable

from IPython.core.error import StdinNotImplementedError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Float, Int, Unicode
from traitlets.config import Configurable

from .engine import Readiness, RunResult, Terminal
from .errors import CommandFailed, ExpectationFailed, TerminalExited, UsageError

TERMINALS = ("1", "2")

#: The magic family: name, the terminals it runs in, what its help says.
#: The hyphenated names are the Educates spellings of the original workshops.
EXECUTE_MAGICS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("execute", ("1",), "Run shell commands in terminal 1 (the top one)."),
    ("execute1", ("1",), "Run shell commands in terminal 1 (the top one)."),
    ("execute-1", ("1",), "Run shell commands in terminal 1 (the top one)."),
    ("execute2", ("2",), "Run shell commands in terminal 2 (the bottom one)."),
    ("execute-2", ("2",), "Run shell commands in terminal 2 (the bottom one)."),
    ("execute_all", TERMINALS, "Run shell commands in every terminal, 1 then 2."),
    ("execute-all", TERMINALS, "Run shell commands in every terminal, 1 then 2."),
)

#: A cell body that means "press Ctrl-C in that terminal".
CTRL_C = re.compile(r"\s*<ctrl[-+]c>\s*", re.IGNORECASE)
#: A prompt whose answer should not be echoed in the notebook.
PASSWORD_PROMPT = re.compile(r"pass(?:word|phrase)\b[^\n]*$", re.IGNORECASE)
#: One shell word: quoted strings, escapes, or plain characters.
_WORD = re.compile(r"""\s*((?:'[^']*'|"(?:\\.|[^"\\])*"|\\.|[^\s'"\\])+)""")
_VALUE_OPTIONS = {"--wait-for", "--wait-url", "--timeout", "--expect", "--out", "--input"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "e": "\x1b", "0": "\0"}


def execute_args(func: Callable) -> Callable:
    """The options every execute magic takes (one place, shared by the family)."""
    decorators = [
        magic_arguments(),
        argument("--bg", action="store_true", help="return once the command is ready and "
                 "leave it running; the terminal is busy until it ends or is interrupted"),
        argument("--wait-for", metavar="REGEX", help="with --bg: ready when output matches"),
        argument("--wait-url", metavar="URL", help="with --bg: ready when URL answers HTTP"),
        argument("--timeout", type=float, metavar="SECONDS",
                 help="bound on the wait: interrupt and fail (--bg: fail if not ready)"),
        argument("--expect", action="append", default=[], metavar="REGEX",
                 help="fail unless the output matches (re.search, MULTILINE); repeatable"),
        argument("--allow-error", action="store_true",
                 help="run every line whatever fails; never fail on an exit status"),
        argument("--out", metavar="VAR", help="also store the output (plain text) in VAR"),
        argument("--input", metavar="TEXT",
                 help="text (with \\n escapes) typed for the command to read"),
        argument("--clear", action="store_true", help="clear the terminal's transcript first"),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def unescape(text: str) -> str:
    r"""Turn ``\n``, ``\t``, ``\\`` ... of an option value into characters."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


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


class TerminalMagics(Configurable):
    """Session-wide settings: ``%config TerminalMagics.timeout = 60``.

    A Configurable of its own, not the Magics class: every Magics already has
    a ``shell`` attribute (the IPython shell), and the spec's ``shell`` setting
    (the terminals' program) would collide with it.
    """

    timeout = Float(
        None,
        allow_none=True,
        help="Default --timeout in seconds for every command (None: no bound).",
    ).tag(config=True)
    shell = Unicode("bash", help="The shell each terminal runs; it must be bash.").tag(config=True)
    max_output_bytes = Int(
        1_000_000,
        help="Characters of output one cell keeps: the first half streams live, the last half "
        "is shown at the end, with a marker for what was left out between.",
    ).tag(config=True)
    columns = Int(120, help="Terminal width that programs see.").tag(config=True)
    rows = Int(40, help="Terminal height that programs see.").tag(config=True)


@magics_class
class ExecuteMagics(Magics):
    """Two persistent bash terminals owned by this kernel (see the README)."""

    def __init__(self, shell=None, **kwargs) -> None:  # noqa: ANN001 - IPython's shell
        super().__init__(shell=shell, **kwargs)
        self.settings = TerminalMagics(parent=shell)
        if shell is not None:
            shell.configurables.append(self.settings)
        self.terminals: dict[str, Terminal] = {}
        for name, terminals, summary in EXECUTE_MAGICS:
            magic = self._make_execute_magic(name, terminals, summary)
            self.magics["line"][name] = magic
            self.magics["cell"][name] = magic

    def _make_execute_magic(self, name: str, terminals: tuple[str, ...], summary: str) -> Callable:
        def magic(line: str, cell: str | None = None) -> None:
            return self._execute(magic, terminals, line, cell)

        magic.__name__ = name
        magic.__doc__ = (
            f"{summary}\n\nAs a cell magic the body is the command; as a line magic the rest of "
            "the line is. A body of <ctrl-c> interrupts what runs there."
        )
        return no_var_expand(execute_args(magic))

    # -- the execute family ---------------------------------------------------

    def _execute(
        self, magic: Callable, terminals: tuple[str, ...], line: str, cell: str | None
    ) -> None:
        if cell is None:
            options, command = split_options(line)
        else:
            options, command = line, cell
        try:
            argv = shlex.split(options)
        except ValueError as err:
            raise UsageError(f"%{magic.__name__} {options}: {err}") from None
        args = magic.parser.parse_args(argv)
        if not command.strip():
            raise UsageError(f"%{magic.__name__}: nothing to run; give a command")
        if CTRL_C.fullmatch(command):
            for name in terminals:
                self._interrupt(name, label=len(terminals) > 1)
            return
        results = []
        for name in terminals:
            if len(terminals) > 1:
                sys.stdout.write(f"\x1b[1m[terminal {name}]\x1b[0m\n")
            results.append(self._run_one(name, command, args))
        output = "\n".join(result.text for result in results)
        if args.out:
            self.shell.user_ns[args.out] = output
        for pattern in args.expect:
            if not re.search(pattern, output, re.MULTILINE):
                raise ExpectationFailed.from_output("/".join(terminals), pattern, output)

    def _run_one(self, name: str, command: str, args) -> RunResult:  # noqa: ANN001
        if (args.wait_for or args.wait_url) and not args.bg:
            raise UsageError("--wait-for and --wait-url need --bg")
        terminal = self.terminal_named(name)
        if args.clear and terminal.running is None:  # a busy terminal keeps its server logs
            terminal.clear()
        timeout = args.timeout if args.timeout is not None else self.settings.timeout
        strict = not args.allow_error
        text_input = unescape(args.input) if args.input is not None else None
        write = sys.stdout.write
        if args.bg:
            ready = Readiness(pattern=args.wait_for, url=args.wait_url)
            result = terminal.start(
                command, ready=ready, timeout=timeout, strict=strict, input=text_input,
                on_output=write,
            )  # fmt: skip
            if result.status is not None and result.status != 0 and strict:
                raise CommandFailed.before_ready(name, result)
        else:
            result = terminal.run(
                command, timeout=timeout, strict=strict, input=text_input,
                on_output=write, on_input=self._ask,
            )  # fmt: skip
        if result.exited:
            error = TerminalExited.from_status(name, result.status, terminal.errexit)
            if strict:
                raise error
            sys.stderr.write(f"{error}\n")
        elif strict and result.status:
            raise CommandFailed.from_result(name, result)
        return result

    @staticmethod
    def _ask(prompt: str) -> str | None:
        """Ask the learner through Jupyter's input box; None where no one can answer.

        The prompt already shows in the cell's output; a password prompt gets
        Jupyter's hidden input box.
        """
        ask = getpass.getpass if PASSWORD_PROMPT.search(prompt) else input
        try:
            return ask("") + "\n"
        except (StdinNotImplementedError, EOFError, OSError, RuntimeError):
            return None

    def _interrupt(self, name: str, label: bool = False) -> None:
        terminal = self.terminals.get(name)
        if label:
            sys.stdout.write(f"\x1b[1m[terminal {name}]\x1b[0m\n")
        result = terminal.interrupt(on_output=sys.stdout.write) if terminal else None
        if result is None:
            sys.stdout.write(f"(terminal {name}: nothing was running)\n")

    def terminal_named(self, name: str) -> Terminal:
        """The terminal called ``name``, started on first use or after its shell ended."""
        terminal = self.terminals.get(name)
        if terminal is not None and terminal.exited:
            terminal.close()
            sys.stderr.write(
                f"terminal {name}: the previous shell had ended; starting a fresh one\n"
            )
            terminal = None
        if terminal is None:
            terminal = Terminal(
                name, shell=self.settings.shell, cwd=os.getcwd(), columns=self.settings.columns,
                rows=self.settings.rows, max_output_bytes=self.settings.max_output_bytes,
            )  # fmt: skip
            self.terminals[name] = terminal
        terminal.max_output_bytes = self.settings.max_output_bytes
        return terminal

    # -- %terminal -------------------------------------------------------------

    @line_magic
    @no_var_expand
    def terminal(self, line: str) -> None:
        """Look after the terminals.

        %terminal [status]              a table of both terminals
        %terminal show N [--lines K]    the latest output of terminal N (server logs too)
        %terminal interrupt N|all       Ctrl-C what runs there
        %terminal restart N|all         a fresh shell (everything started there ends)
        %terminal input N TEXT          type TEXT (with \\n escapes) into terminal N
        %terminal clear N|all           forget the kept output of terminal N
        """
        action, _, rest = line.lstrip().partition(" ")
        handler = {
            "": self._status, "status": self._status, "show": self._show,
            "interrupt": self._interrupt_all, "restart": self._restart, "input": self._input,
            "clear": self._clear,
        }.get(action)  # fmt: skip
        if handler is None:
            raise UsageError(f"%terminal {action}: unknown; use status, show, interrupt, "
                             "restart, input or clear")  # fmt: skip
        handler(rest if action == "input" else rest.strip())  # TEXT keeps its spaces

    def _names(self, word: str) -> tuple[str, ...]:
        if word == "all":
            return TERMINALS
        if word not in TERMINALS:
            raise UsageError(f"no terminal {word!r}: use 1, 2 or all")
        return (word,)

    def _status(self, _rest: str) -> None:
        rows = [("terminal", "state", "pid", "cwd", "last status", "virtualenv")]
        for name in TERMINALS:
            terminal = self.terminals.get(name)
            if terminal is None:
                rows.append((name, "not started", "", "", "", ""))
                continue
            st = terminal.status()
            last = "" if st.last_status is None else str(st.last_status)
            rows.append((name, st.state, str(st.pid), st.cwd, last, st.virtualenv))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=False)
                ).rstrip()
            )

    def _show(self, rest: str) -> None:
        words = rest.split()
        if not words or (len(words) not in (1, 3)) or (len(words) == 3 and words[1] != "--lines"):
            raise UsageError("usage: %terminal show N [--lines K]")
        (name,) = self._names(words[0])
        if len(words) == 3 and not words[2].isdigit():
            raise UsageError(f"%terminal show: --lines wants a number, not {words[2]!r}")
        lines = int(words[2]) if len(words) == 3 else 100
        terminal = self.terminals.get(name)
        text = terminal.latest_output(lines) if terminal else ""
        sys.stdout.write(text or f"(terminal {name} has no output yet)\n")

    def _interrupt_all(self, rest: str) -> None:
        names = self._names(rest)
        for name in names:
            self._interrupt(name, label=len(names) > 1)

    def _restart(self, rest: str) -> None:
        for name in self._names(rest):
            terminal = self.terminals.pop(name, None)
            if terminal is not None:
                terminal.close()
            self.terminal_named(name)
            print(f"terminal {name}: a fresh shell in {self.terminals[name].cwd}")

    def _clear(self, rest: str) -> None:
        for name in self._names(rest):
            if name in self.terminals:
                self.terminals[name].clear()

    def _input(self, rest: str) -> None:
        name, _, text = rest.lstrip().partition(" ")
        (name,) = self._names(name)
        if not text:
            raise UsageError("usage: %terminal input N TEXT")
        terminal = self.terminals.get(name)
        if terminal is None or terminal.running is None:
            raise UsageError(f"terminal {name} runs nothing that could read input")
        terminal.send_input(unescape(text))

    def close_all(self) -> None:
        """End every terminal and all they started (kernel shutdown, unload)."""
        for terminal in self.terminals.values():
            terminal.close()
        self.terminals.clear()


_loaded: ExecuteMagics | None = None


def load_ipython_extension(ipython) -> None:  # noqa: ANN001
    global _loaded
    if _loaded is not None:
        return
    _loaded = ExecuteMagics(shell=ipython)
    ipython.register_magics(_loaded)
    atexit.register(_loaded.close_all)


def unload_ipython_extension(ipython) -> None:  # noqa: ANN001
    global _loaded
    if _loaded is None:
        return
    atexit.unregister(_loaded.close_all)
    _loaded.close_all()
    for kind in ("line", "cell"):
        for name in _loaded.magics[kind]:
            ipython.magics_manager.magics[kind].pop(name, None)
    _loaded = None
