"""``TerminalMagics``: the execute family, ``%terminal``, and their settings.

The magics parse options, pick terminals and format what the engine returns;
everything about bash lives in :mod:`modwsgi_magics.engine`. The class is a
traitlets Configurable, as IPython's own ``ScriptMagics`` is, so
``%config TerminalMagics.timeout = 60`` and ``ipython_config.py`` set it.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Float, Int, observe

from ..engine import (
    CommandFailed,
    CommandInterrupted,
    ExpectationFailed,
    RunResult,
    Terminal,
    TerminalExited,
)
from ..panel import PanelSocket
from ..syntax import CTRL_C, EXECUTE_MAGICS, TERMINALS, unescape
from .frontend import kernel_socket, proxied, tell_frontend
from .options import ExecuteOptions, execute_arguments, parse_execute_options, split_options

#: A prompt whose answer should not be echoed in the notebook.
PASSWORD_PROMPT = re.compile(r"pass(?:word|phrase)\b[^\n]*$", re.IGNORECASE)
#: The actions of ``%terminal``, as its help lists them.
TERMINAL_ACTIONS = ("status", "show", "interrupt", "restart", "input", "clear", "open", "open-url")
#: ``%terminal input N TEXT``: TEXT is everything after the space that follows N.
_INPUT_LINE = re.compile(r"\s*input\s+(?P<target>\S+) (?P<text>.*)\Z", re.DOTALL)


#: ``$NAME``, ``${NAME}`` and ``${NAME:-default}`` in a URL: the kernel's environment.
_ENVIRONMENT_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def _expand_environment(text: str) -> str:
    """``text`` with the kernel's environment variables filled in, as a shell would:
    ``http://localhost:${WORKSHOP_PORT:-8000}/`` (a classroom sets the port)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return os.environ.get(name) or (match.group(2) or "")

    return _ENVIRONMENT_VARIABLE.sub(value, text)


def terminal_label(name: str) -> str:
    """The bold heading of one terminal's part of a cell that runs in several."""
    return f"\x1b[1m[terminal {name}]\x1b[0m\n"


@magics_class
class TerminalMagics(Magics):
    """Two persistent bash terminals owned by this kernel (see the README)."""

    timeout = Float(
        None,
        allow_none=True,
        help="Default --timeout in seconds for every command (None: no bound).",
    ).tag(config=True)
    max_output_chars = Int(
        1_000_000,
        help="Characters of output one cell keeps: the first half streams live, the last half "
        "is shown at the end, with a marker for what was left out between.",
    ).tag(config=True)
    max_output_bytes = Int(
        None, allow_none=True, help="Deprecated: the old name of max_output_chars."
    ).tag(config=True)
    columns = Int(120, help="Terminal width that programs see.").tag(config=True)
    rows = Int(40, help="Terminal height that programs see.").tag(config=True)

    @observe("max_output_bytes")
    def _old_max_output_name(self, change: dict[str, Any]) -> None:
        if change["new"] is None:
            return
        warnings.warn(
            "TerminalMagics.max_output_bytes is deprecated (it counts characters); "
            "use TerminalMagics.max_output_chars",
            DeprecationWarning,
            stacklevel=2,
        )
        self.max_output_chars = change["new"]

    @observe("max_output_chars")
    def _check_max_output(self, change: dict[str, Any]) -> None:
        if change["new"] < 100:
            self.max_output_chars = change["old"]
            raise UsageError(
                f"TerminalMagics.max_output_chars must be at least 100, not {change['new']}"
            )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.terminals: dict[str, Terminal] = {}
        self._panel: PanelSocket | None = None  # the kernel's socket for the JupyterLab panel
        self._panel_tried = False
        for name, terminals, summary in EXECUTE_MAGICS:
            magic = self._make_execute_magic(name, terminals, summary)
            self.magics["line"][name] = magic
            self.magics["cell"][name] = magic

    def _make_execute_magic(
        self, name: str, terminals: tuple[str, ...], summary: str
    ) -> Callable[..., None]:
        def magic(line: str, cell: str | None = None) -> None:
            return self._execute(magic, terminals, line, cell)

        magic.__name__ = name
        magic.__doc__ = (
            f"{summary}\n\nAs a cell magic the body is the command; as a line magic the rest of "
            "the line is. A body of <ctrl-c> interrupts what runs there."
        )
        return no_var_expand(execute_arguments(magic))

    # -- the execute family ---------------------------------------------------

    def _execute(
        self, magic: Callable[..., None], terminals: tuple[str, ...], line: str, cell: str | None
    ) -> None:
        options_text, command = split_options(line) if cell is None else (line, cell)
        results: list[RunResult] = []
        try:
            self._execute_in(magic, terminals, options_text, command, results)
        except KeyboardInterrupt:
            # The stop button outside the engine's own handling: before a
            # command was typed, or after the last one ended.
            where = "/".join(terminals or self.names_in_use())
            if results and len(results) == len(terminals or self.names_in_use()):
                raise CommandInterrupted.after_end(where, command) from None
            raise CommandInterrupted.not_started(where, command) from None

    def _execute_in(
        self,
        magic: Callable[..., None],
        terminals: tuple[str, ...],
        options_text: str,
        command: str,
        results: list[RunResult],
    ) -> None:
        options = parse_execute_options(magic, options_text)
        if options.terminal is not None:
            if not terminals:
                raise UsageError(f"%{magic.__name__} runs in every terminal; --terminal picks one")
            terminals = (options.terminal,)
        terminals = terminals or self.names_in_use()
        if not command.strip():
            raise UsageError(f"%{magic.__name__}: nothing to run; give a command")
        if CTRL_C.fullmatch(command):
            for name in terminals:
                self._interrupt(name, label=len(terminals) > 1)
            return
        if CTRL_C.match(command.splitlines()[0] if command.strip() else ""):
            raise UsageError(
                f"%{magic.__name__}: a <ctrl-c> cell holds nothing else; put the commands "
                "that follow it in a cell of their own"
            )
        for name in terminals:
            if len(terminals) > 1:
                sys.stdout.write(terminal_label(name))
            results.append(self._run_one(name, command, options))
        output = "\n".join(result.text for result in results)
        if options.out:
            assert self.shell is not None  # a magic runs in a shell
            self.shell.user_ns[options.out] = output
        for pattern in options.expect:
            if not pattern.search(output):
                raise ExpectationFailed.from_output("/".join(terminals), pattern.pattern, output)

    def _run_one(self, name: str, command: str, options: ExecuteOptions) -> RunResult:
        terminal = self.terminal_named(name)
        if options.clear and terminal.running is None:  # a busy terminal keeps its server logs
            terminal.clear()
        timeout = options.timeout if options.timeout is not None else self.timeout
        write = sys.stdout.write
        if options.readiness is not None:
            result = terminal.start(
                command,
                ready=options.readiness,
                timeout=timeout,
                strict=options.strict,
                input=options.input,
                on_output=write,
            )
            if result.status is not None and result.status != 0 and options.strict:
                raise CommandFailed.before_ready(name, result)
        else:
            result = terminal.run(
                command,
                timeout=timeout,
                strict=options.strict,
                input=options.input,
                on_output=write,
                on_input=self._ask,
            )
        if result.exited:
            error = TerminalExited.from_status(name, result.status, terminal.errexit)
            if options.strict:
                raise error
            sys.stderr.write(f"{error}\n")
        elif options.strict and result.status:
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
            sys.stdout.write(terminal_label(name))
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
                name,
                cwd=os.getcwd(),
                columns=self.columns,
                rows=self.rows,
                max_output_chars=self.max_output_chars,
            )
            self.terminals[name] = terminal
            panel = self._serve_panel()
            if panel is not None:
                panel.publish(name, terminal)
                tell_frontend("started", terminal=name)
        terminal.max_output_chars = self.max_output_chars
        return terminal

    def _serve_panel(self) -> PanelSocket | None:
        """The kernel's socket for the terminals panel, opened on first use."""
        if not self._panel_tried:
            self._panel_tried = True
            self._panel = kernel_socket()
        return self._panel

    # -- %terminal -------------------------------------------------------------

    @line_magic
    @no_var_expand
    @magic_arguments()
    @argument(
        "action",
        nargs="?",
        default="status",
        choices=TERMINAL_ACTIONS,
        help="status (the default): a table of the terminals; show: the latest output of "
        "terminal N, server logs too; interrupt: Ctrl-C what runs there; restart: a fresh "
        "shell (everything started there ends); input: type TEXT (\\n is Enter) into "
        "terminal N; clear: forget the kept output of terminal N; open: show the terminals "
        "panel in JupyterLab; open-url URL: open a local web app (http://localhost:PORT/) in a "
        "JupyterLab tab, through jupyter-server-proxy (${VAR:-default} from the kernel's "
        "environment)",
    )
    @argument(
        "target",
        nargs="?",
        metavar="N",
        help="a terminal: 1, 2, or another started (3, a --terminal NAME); all for "
        "interrupt, restart, clear; the URL for open-url",
    )
    @argument("text", nargs="*", metavar="TEXT", help="for input: the text to type")
    @argument("--lines", type=int, default=100, metavar="K", help="for show: how many lines")
    def terminal(self, line: str) -> None:
        """Look after the terminals: their state, output, Ctrl-C, restart, typed input."""
        typed = _INPUT_LINE.match(line)  # TEXT as typed: spaces and quotes kept
        args = parse_argstring(self.terminal, f"input {typed['target']}" if typed else line)
        if args.action == "status":
            if args.target or args.text:
                raise UsageError("usage: %terminal [status]")
            self._print_status()
            return
        if args.action in ("open", "open-url"):
            self._open(args.action, args.target, args.text)
            return
        if args.target is None:
            raise UsageError(f"usage: %terminal {args.action} N")
        if args.action == "input":
            self._type_input(args.target, typed["text"] if typed else "")
            return
        if args.text:
            raise UsageError(f"%terminal {args.action}: unexpected {' '.join(args.text)!r}")
        names = self._names(args.target, allow_all=args.action != "show")
        if args.action == "show":
            if args.lines < 1:
                raise UsageError("%terminal show: --lines wants a number above 0")
            self._show(names[0], args.lines)
        for name in names:
            if args.action == "interrupt":
                self._interrupt(name, label=len(names) > 1)
            elif args.action == "restart":
                self._restart(name)
            elif args.action == "clear" and name in self.terminals:
                self.terminals[name].clear()

    def names_in_use(self) -> tuple[str, ...]:
        """Terminals 1 and 2, then every other started, in the order they started."""
        return TERMINALS + tuple(name for name in self.terminals if name not in TERMINALS)

    def _open(self, action: str, url: str | None, rest: list[str]) -> None:
        """``%terminal open`` and ``%terminal open-url URL``: cues to the JupyterLab panel."""
        if rest or (action == "open") != (url is None):
            raise UsageError("usage: %terminal open, or %terminal open-url URL")
        if self._serve_panel() is None:
            raise UsageError(
                f"%terminal {action}: the terminals panel lives in JupyterLab; this is no kernel"
            )
        if url is None:
            tell_frontend("open")
            return
        try:
            port, path = proxied(_expand_environment(url))
        except ValueError as err:
            raise UsageError(f"%terminal open-url: {err}") from None
        tell_frontend("open-url", port=port, path=path)
        print(f"{url} opens in a JupyterLab tab, at proxy/{port}{path} (jupyter-server-proxy)")

    def _names(self, word: str, allow_all: bool = True) -> tuple[str, ...]:
        if word == "all" and allow_all:
            return self.names_in_use()
        if word not in self.names_in_use():
            choices = ", ".join(self.names_in_use()) + (" or all" if allow_all else "")
            raise UsageError(f"no terminal {word!r}: use {choices}")
        return (word,)

    def _print_status(self) -> None:
        rows = [("terminal", "state", "pid", "cwd", "last status", "virtualenv")]
        for name in self.names_in_use():
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
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    def _show(self, name: str, lines: int) -> None:
        terminal = self.terminals.get(name)
        text = terminal.latest_output(lines) if terminal else ""
        sys.stdout.write(text or f"(terminal {name} has no output yet)\n")

    def _restart(self, name: str) -> None:
        terminal = self.terminals.pop(name, None)
        if terminal is not None:
            terminal.close()
        print(f"terminal {name}: a fresh shell in {self.terminal_named(name).cwd}")

    def _type_input(self, word: str, text: str) -> None:
        (name,) = self._names(word, allow_all=False)
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
        if self._panel is not None:
            self._panel.close()
        self._panel, self._panel_tried = None, False
