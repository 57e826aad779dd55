"""The protocol between the engine and bash, described once, beside ``terminal.bashrc``.

A terminal is an interactive ``bash --noediting`` on a pty, started with
``terminal.bashrc`` as its start-up file. Three channels connect it to the
engine, all inside a private 0700 scratch folder or the pty itself:

1. **The cell file.** The engine writes a cell's text to ``SCRATCH/cell``
   and types one short line into the terminal, :func:`run_line`:
   ``__modwsgi_magics_run SEQ MODE AHEAD [TEXT]; builtin source "$cell"``. The
   function prepares the cell (a ``begin`` record, the ``ERR`` trap); the
   file is then *sourced at the shell's top level*, so bash parses the cell as
   a script (heredocs, 6000-character lines; an unclosed quote is a syntax
   error, not a hang), ``declare`` makes globals and ``local`` is refused as
   at a prompt, while the command's stdin is still the terminal. ``MODE`` is ``strict``
   (an ``ERR`` trap, with errtrace, leaves the cell at the first failure and
   records its line) or ``all`` (every line runs). ``AHEAD`` is ``input``
   when text typed for the command follows the line (else ``-``); whatever
   of it the command leaves unread
   is discarded at the next prompt and never runs as a command. ``TEXT``,
   in double quotes, is expanded by bash in the cell's terminal (a readiness
   URL naming ``$PORT``) and comes back in the ``begin`` record.

   Three things a prompt does that sourcing does not, kept by the protocol:

   * *A ``return`` at the cell's top level* ends a sourced file quietly; a
     prompt refuses it. So the cell file ends with :data:`END_LINE`
     (``MODE`` gains ``+end``); a cell that never reached it, with no
     failure, no syntax error and no signal, returned early and fails.
   * *A command bash could not expand* (``set -u`` and an unset variable,
     ``${VAR:?}``, ``$((1/0))``) is dropped with a message and no ``ERR``
     trap, and the next line runs, as at a prompt. A strict cell fails
     afterwards, at that line, going by bash's message (:func:`dropped_line`).
   * *The learner's own ``ERR`` trap* stays theirs. Before a strict cell the
     typed line starts with ``builtin trap -p ERR >"$traps";`` (inside a
     function bash hides the ``ERR`` trap); the cell's trap runs it beside
     its own, a ``trap ... ERR`` in the cell goes through a wrapper that
     keeps the engine's in front (``MODE`` gains ``+trap`` when the cell's
     text names ``trap``), and the prompt puts it back.

2. **The status FIFO.** ``SCRATCH/status`` gets records of
   :data:`RECORD_FIELDS` NUL-terminated fields, read back as
   :class:`StatusRecord`: ``begin`` when the run function starts cell SEQ,
   and ``prompt`` from bash's ``PROMPT_COMMAND`` at every prompt. A prompt
   record is the only end of a command the engine knows: nothing in the
   output marks it, so no output can fake it. Prompt 0 is the first prompt
   (the shell is up). A Ctrl-C that reaches bash before it read the typed
   line discards the line: a prompt then comes with no ``begin`` for SEQ,
   and the engine knows the cell never started.

3. **The pty.** Echo is off, ``PS1`` and ``PS2`` are empty, so neither the
   typed line nor a prompt shows. (With a view, ``view.py``, echo is on while
   the terminal is idle, so that a learner's typing shows; a cell turns it off
   before its line is typed. The view draws the prompt itself.) Where a
   program turns echo back on, or a cell runs ``set -v``/``set -x``, bash
   shows the engine's own lines; the reader removes them with
   :func:`engine_lines`.

``PROMPT_COMMAND`` and the engine's functions are read-only in the terminal, so
a cell cannot break the protocol by assigning them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: bash's start-up file for every terminal.
RCFILE = Path(__file__).with_name("terminal.bashrc")
#: Environment variables that tell terminal.bashrc where its channels are.
FIFO_VARIABLE, CELL_VARIABLE = "MODWSGI_MAGICS_FIFO", "MODWSGI_MAGICS_CELL"
#: Fields of one status record, in the order terminal.bashrc writes them.
RECORD_FIELDS = 7
#: The cell file as the typed line names it: a read-only variable of the shell.
_CELL = '"$__modwsgi_magics_cell"'
#: Where the typed line writes the learner's ERR trap before a strict cell.
_TRAPS = '"$__modwsgi_magics_traps"'


def bash_argv(shell: str) -> list[str]:
    """The command line of a terminal's shell."""
    return [shell, "--noprofile", "--rcfile", str(RCFILE), "--noediting", "-i"]


def run_line(
    seq: int,
    strict: bool,
    typed_ahead: str | None = None,
    expand: str | None = None,
    *,
    ended: bool = False,
    traps: bool = False,
) -> bytes:
    """What the engine types to run cell ``seq``, with ``typed_ahead`` behind it.

    One write: text typed ahead sits behind the run line before bash can
    finish the command, so the next prompt discards whatever is left unread.
    The leading space keeps the line out of history even where it is on.
    ``expand``: text whose ``$VAR``s bash expands in the cell's terminal; the
    begin record brings it back (:attr:`StatusRecord.expanded`).
    """
    mode = ("strict" if strict else "all") + ("+end" if ended else "") + ("+trap" if traps else "")
    ahead = "input" if typed_ahead else "-"
    text = f' "{_double_quoted(expand)}"' if expand is not None else ""
    # A strict cell stands in for the learner's own ERR trap; `trap -p` reads
    # it here, outside any function (bash hides it inside functions).
    save = f"builtin trap -p ERR >{_TRAPS}; " if strict else ""
    line = f" {save}__modwsgi_magics_run {seq} {mode} {ahead}{text}; builtin source {_CELL}\n"
    return (line + (typed_ahead or "")).encode()


#: The cell file's last line, when it can have one (:func:`cell_file_text`).
END_LINE = '__modwsgi_magics_end "$?" "$_"\n'
#: Lines after which an added line would not stand on its own: the command
#: goes on (`\\`, `|`, `&&`, `||`), or a here-document would take it in.
_CONTINUED = re.compile(r"(?:\\|\||&&)\s*$")


def cell_file_text(command: str) -> tuple[str, bool]:
    """The cell file for ``command``, and whether it ends with :data:`END_LINE`.

    The end line tells a cell that ran to its end from one that a ``return``
    at its top level left early (bash allows that in a sourced file; a
    prompt refuses it). Left out where it could change what the cell does.
    """
    text = command if command.endswith("\n") else command + "\n"
    lines = text.rstrip().splitlines()
    if "<<" in text or (lines and _CONTINUED.search(lines[-1])):
        return text, False
    return text + END_LINE, True


def first_return_line(command: str) -> int | None:
    """The line of the first ``return`` that starts a line of ``command``."""
    for number, line in enumerate(command.splitlines(), 1):
        if re.match(r"\s*return\b", line):
            return number
    return None


def _double_quoted(text: str) -> str:
    """``text`` for bash's double quotes: ``$VAR`` expands, nothing else runs."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    text = text.replace("$(", "\\$(").replace("\n", " ")
    return text


@dataclass(frozen=True)
class StatusRecord:
    """What bash reported: a cell began, or a prompt came (which cell ended, how, where)."""

    kind: str  # "begin" or "prompt"
    seq: int
    status: int
    failed_status: int | None
    failed_line: int | None
    cwd: str
    virtualenv: str
    flags: str  # bash's $-: "e" when `set -e` is on; for "begin", the expanded text

    @property
    def expanded(self) -> str:
        """For a begin record: the text the engine asked bash to expand."""
        return self.flags

    @classmethod
    def from_fields(cls, fields: list[bytes]) -> StatusRecord:
        kind, seq, status, failed, cwd, venv, flags = (
            field.decode(errors="replace") for field in fields
        )
        failed_status, _, line = failed.partition(" ")
        return cls(
            kind,
            int(seq),
            int(status or 0),
            int(failed_status) if failed else None,
            int(line) if failed else None,
            cwd,
            venv,
            flags,
        )


#: How the engine's own lines begin, for a view to hold back a chunk that ends
#: inside one (the typed line, strict or not; PROMPT_COMMAND under ``set -v``).
ENGINE_LINE_STARTS = (
    " builtin trap -p ERR >",
    " __modwsgi_magics_run ",
    "{ __modwsgi_magics_prompt; }",
)


def engine_lines(cell_path: str) -> re.Pattern[str]:
    """Lines in which a terminal shows the engine itself, to be hidden.

    ``set -v`` echoes the typed run line and PROMPT_COMMAND, ``set -x`` traces
    the ``source`` of the cell file, and a program that turns terminal echo
    back on (``stty sane``) echoes the typed line.
    """
    return re.compile(
        r'^(?: (?:builtin trap -p ERR >"\$__modwsgi_magics_traps"; )?'
        r"__modwsgi_magics_run \d+ (?:strict|all)(?:\+end)?(?:\+trap)? "
        r'(?:input|-)(?: "(?:[^"\\]|\\.)*")?; '
        r"builtin source "
        r'"\$__modwsgi_magics_cell"'
        r"|\{ __modwsgi_magics_prompt; \} 2>/dev/null"
        r'|\+* ?__modwsgi_magics_end (?:"\$\?" "\$_"|.*)'
        r"|\{ __modwsgi_magics_error .*|\$\{__modwsgi_magics_chain.*"
        r"|\{ __modwsgi_magics_stopping .*"
        rf"|\S* ?(?:builtin )?source {re.escape(cell_path)})\r?\n",
        re.MULTILINE,
    )


def hide_engine(text: str, cell_path: str, pattern: re.Pattern[str]) -> str:
    """``text`` without the engine's own lines, and bash's errors without the
    cell file's path (``line 3: foo: command not found`` stays)."""
    if cell_path in text or "__modwsgi_magics_" in text:
        text = pattern.sub("", text)
        text = text.replace(cell_path + ": ", "")
    return text


#: What an interactive bash says as it drops a command whose words it cannot
#: expand (an unset variable under ``set -u``, ``${VAR:?}``, ``$((1/0))``): it
#: raises no ERR trap and goes on with the next line, so the engine reads the
#: failure from the message. (A non-interactive bash, such as a nested
#: ``bash -c``, says ``line N:`` first: not this terminal's shell.)
_MESSAGE = re.compile(
    r"^bash: (?!line \d+: )(?:\(\(: )?(?P<what>.+?): (?P<why>.+?)\r?$", re.MULTILINE
)
_EXPANSION_ERROR = re.compile(
    r"unbound variable$|parameter null or not set$|bad substitution$|readonly variable$|"
    r"division by 0|syntax error|value too great for base|invalid number|invalid arithmetic base|"
    r"exponent less than 0|attempted assignment to non-variable"
)


def dropped_line(output: str, command: str) -> int | None:
    """The line of ``command`` whose command bash dropped, going by ``output``
    (0 when the line cannot be told), or None when it dropped none.

    ``${NAME:?message}`` shows ``bash: NAME: message``: any message counts for
    a ``NAME`` that the cell tests that way.
    """
    if "bash: " not in output:
        return None
    for match in _MESSAGE.finditer(output):
        what = match["what"]
        if not _EXPANSION_ERROR.search(match["why"]) and not re.search(
            rf"\$\{{{re.escape(what)}:?\?", command
        ):
            continue
        lines = command.splitlines()
        for wanted in (f"${what}", f"${{{what}", what):
            for number, line in enumerate(lines, 1):
                if wanted in line:
                    return number
        return 0
    return None
