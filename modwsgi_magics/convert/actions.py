"""Educates clickable actions: what one fenced block of a workshop page asks for.

A workshop page marks its clickable commands as fenced code blocks whose info
string names the action. Two generations exist and both are read here:

* legacy fences, whose body is the command itself::

      ```execute-2
      curl http://localhost:8000/
      ```

  ``execute`` / ``execute-1`` (terminal 1), ``execute-2``, ``execute-all``; a
  body of ``<ctrl-c>`` or ``<ctrl+c>`` interrupts that terminal. ``copy`` and
  ``copy-and-edit`` only copy text.

* namespaced actions, whose body is YAML::

      ```terminal:input
      text: y
      session: 2
      ```

:func:`classify` turns one fence into one step (a dataclass below); the
converter then links steps across a workshop (servers, prompts) and renders
them as notebook cells. Anything without a notebook meaning becomes a
:class:`Note`, so no action of the page is ever dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from ..syntax import CTRL_C, TERMINAL_NAME, TERMINALS, execute_magic

#: The legacy family: ``execute``, ``execute-1``, ``execute-all``, ``execute-3`` ...
_LEGACY_EXECUTE = re.compile(r"execute(?:-(?P<session>[\w-]+))?")
#: Info strings that are actions even without a ``namespace:`` prefix.
_LEGACY_COPY = {"copy", "copy-and-edit"}


@dataclass
class Markdown:
    """Prose, or a code block that only shows text (``copy``, expected output)."""

    text: str


@dataclass
class Command:
    """Shell text to run in ``terminals``; rendered as ``%%<magic> [options]``.
    A ``background`` command may know the URL it is ready at (``wait_url``)."""

    terminals: tuple[str, ...]
    command: str
    magic: str
    line: int = 0
    clear: bool = False
    background: bool = False
    input: str | None = None
    wait_url: str | None = None


@dataclass
class Interrupt:
    """Ctrl-C in ``terminals``; rendered as a ``<ctrl-c>`` cell of ``magic``."""

    terminals: tuple[str, ...]
    magic: str
    line: int = 0


@dataclass
class Input:
    """Text typed into a terminal (``terminal:input``), newline included if ``endl``."""

    terminal: str
    text: str
    line: int = 0


@dataclass
class Clear:
    """``terminal:clear``: forget a terminal's transcript before its next command."""

    terminals: tuple[str, ...]
    line: int = 0


@dataclass
class Note:
    """An action the notebook cannot perform, kept visible with the reason."""

    action: str
    body: str
    reason: str
    line: int = 0


@dataclass
class OpenUrl:
    """A page opened in the browser (``dashboard:open-url``): a JupyterLab tab."""

    url: str
    line: int = 0


Step = Markdown | Command | Interrupt | Input | Clear | Note | OpenUrl


def classify(info: str, body: str, line: int = 0) -> Step | None:
    """The step a fence with this info string and body stands for.

    Returns None for a fence that is plain Markdown (no info string, or a
    language name such as ``bash``): it stays in the prose as it is.

    ``classify("execute-2", "ls\\n")`` is ``Command(("2",), "ls", "execute-2")``;
    ``classify("python", "print(1)\\n")`` is None.
    """
    words = info.split()
    name = words[0] if words else ""
    if name in _LEGACY_COPY:
        return Markdown(fence(body.strip("\n")))
    legacy = _LEGACY_EXECUTE.fullmatch(name)
    if legacy:
        return _legacy_execute(name, legacy.group("session"), body, line)
    if ":" not in name:
        return None
    handler = _YAML_ACTIONS.get(name)
    if handler is None:
        return Note(name, body, "it has no notebook equivalent", line)
    try:
        fields = yaml.safe_load(body) if body.strip() else {}
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return Note(name, body, f"its YAML does not parse ({problem})", line)
    if not isinstance(fields, dict):
        return Note(name, body, "its body is not a YAML mapping of properties", line)
    try:
        return handler(name, fields, line)
    except _Unusable as why:
        return Note(name, body, str(why), line)


def fence(text: str, info: str = "") -> str:
    """A fenced code block holding ``text``, fenced longer than any run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{info}\n{text}\n{marks}"


class _Unusable(ValueError):
    """Why a namespaced action cannot become a step (it becomes a Note)."""


def _legacy_execute(name: str, session: str | None, body: str, line: int) -> Step:
    if session is None:
        terminals = TERMINALS[:1]
    elif session == "all":
        terminals = TERMINALS
    elif TERMINAL_NAME.fullmatch(session):
        terminals = (session,)
    else:
        return Note(name, body, _no_terminal(session), line)
    magic = name if session in (None, "all") else execute_magic(terminals)
    if CTRL_C.fullmatch(body):
        return Interrupt(terminals, magic, line)
    command = body.strip("\n")
    if not command.strip():
        return Note(name, body, "it has no command", line)
    return Command(terminals, command, magic, line)


def _no_terminal(session: object) -> str:
    return f"terminal session {session!r} is not a name a notebook terminal can have"


def _session(fields: dict[str, Any]) -> str:
    session = str(fields.get("session", "1")).strip()
    if not TERMINAL_NAME.fullmatch(session):
        raise _Unusable(_no_terminal(session))
    return session


def _open_url(name: str, fields: dict[str, Any], line: int) -> OpenUrl:
    """A local web app opens in a JupyterLab tab (``%terminal open-url``); any
    other address stays a note: a notebook has no dashboard of its own."""
    url = str(fields.get("url", "")).strip()
    if not re.match(r"https?://(?:localhost|127\.0\.0\.1)(?::[\w${}]+)?(?:/|$)", url):
        raise _Unusable(
            "it has no notebook equivalent: only a local web app (http://localhost:PORT/) "
            "opens, in a JupyterLab tab"
        )
    return OpenUrl(url, line)


def _dashboard(name: str, fields: dict[str, Any], line: int) -> Markdown:
    """A dashboard tab holding a terminal of its own (``url: terminal:NAME``)."""
    url = str(fields.get("url", ""))
    terminal = url.removeprefix("terminal:")
    if not url.startswith("terminal:") or not TERMINAL_NAME.fullmatch(terminal):
        raise _Unusable("it opens no terminal; a notebook has no dashboard tabs")
    return Markdown(
        f"*The workshop opens a terminal named `{terminal}` here; in this notebook it starts "
        f"with the first cell that runs in it (`%%{execute_magic((terminal,))}`).*"
    )


def _command(fields: dict[str, Any]) -> str:
    command = fields.get("command")
    if command is None or not str(command).strip():
        raise _Unusable("it has no `command` property")
    return str(command).strip("\n")


def _execute(name: str, fields: dict[str, Any], line: int) -> Command:
    terminals = TERMINALS if name.endswith("-all") else (_session(fields),)
    clear = fields.get("clear") is True
    return Command(terminals, _command(fields), execute_magic(terminals), line, clear=clear)


def _interrupt(name: str, fields: dict[str, Any], line: int) -> Interrupt:
    terminals = TERMINALS if name.endswith("-all") else (_session(fields),)
    return Interrupt(terminals, execute_magic(terminals), line)


def _input(name: str, fields: dict[str, Any], line: int) -> Input:
    if fields.get("text") is None:
        raise _Unusable("it has no `text` property")
    text = str(fields["text"])
    return Input(_session(fields), text + "\n" if fields.get("endl", True) else text, line)


def _clear(name: str, fields: dict[str, Any], line: int) -> Clear:
    return Clear(TERMINALS if name.endswith("-all") else (_session(fields),), line)


def _copy(name: str, fields: dict[str, Any], line: int) -> Markdown:
    if fields.get("text") is None:
        raise _Unusable("it has no `text` property")
    return Markdown(fence(str(fields["text"]).strip("\n")))


#: Namespaced actions with a notebook meaning; every other one becomes a Note.
_YAML_ACTIONS: dict[str, Callable[[str, dict[str, Any], int], Step]] = {
    "terminal:execute": _execute,
    "terminal:execute-all": _execute,
    "terminal:interrupt": _interrupt,
    "terminal:interrupt-all": _interrupt,
    "terminal:input": _input,
    "terminal:clear": _clear,
    "terminal:clear-all": _clear,
    "workshop:copy": _copy,
    "dashboard:create-dashboard": _dashboard,
    "dashboard:open-url": _open_url,
    "workshop:copy-and-edit": _copy,
}
