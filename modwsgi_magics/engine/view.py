"""What a screen on a terminal shows: the feed behind the JupyterLab terminals panel.

The notebook gets a command's output as text (:mod:`.output`); a *view* gets
the terminal itself: the raw byte stream with colours and cursor moves kept
(pip's progress bars redraw in place), the engine's own lines hidden, and what
an interactive bash would have printed around it but here does not, because
the engine keeps ``PS1`` empty and echo off (see :mod:`.protocol`):

* a prompt ``(venv) ~/notebooks/exercises/hello-world$ `` at every prompt
  bash reports, built from its working directory and virtualenv;
* a cell's command after that prompt, as if typed, when the cell starts.

The last ``limit`` characters are kept, so a view that connects late (a page
reload) is replayed the scrollback first. Nothing here does I/O: the terminal
feeds it from its reader thread and from the thread that submits a cell, and
each subscriber is called, in order, under the feed's lock; a subscriber must
only queue what it gets (the kernel-side socket does).

>>> feed = TerminalFeed("/tmp/s/cell", home="/home/ada")
>>> feed.prompt("/home/ada/app", "/home/ada/venv")
>>> feed.command("echo hi")
>>> feed.feed(b"hi\\r\\n")
>>> feed.scrollback.text()
'(venv) \\x1b[1;34m~/app\\x1b[0m$ echo hi\\r\\nhi\\r\\n'
"""

from __future__ import annotations

import codecs
import os
import re
import threading
from collections.abc import Callable

from .output import TailBuffer
from .protocol import ENGINE_LINE_STARTS, engine_lines, hide_engine

#: A subscriber: gets each piece of the stream, in order.
ViewCallback = Callable[[str], object]
#: Escape sequences among typed keys (arrows, function keys): not part of a line.
_KEY_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|O.|.)?", re.DOTALL)


def prompt_text(cwd: str, virtualenv: str, home: str) -> str:
    """bash's usual prompt for ``cwd`` and ``virtualenv``, the folder in bold blue.

    >>> prompt_text("/home/ada/app", "/home/ada/venv", "/home/ada")
    '(venv) \\x1b[1;34m~/app\\x1b[0m$ '
    >>> prompt_text("/srv", "", "/home/ada")
    '\\x1b[1;34m/srv\\x1b[0m$ '
    """
    where = cwd
    if home and home != "/" and (cwd == home or cwd.startswith(home.rstrip("/") + "/")):
        where = "~" + cwd[len(home.rstrip("/")) :]
    env = f"({os.path.basename(virtualenv.rstrip('/'))}) " if virtualenv else ""
    return f"{env}\x1b[1;34m{where}\x1b[0m$ "


def command_text(command: str) -> str:
    """A cell's command as a terminal shows it typed: continuation lines after ``> ``.

    >>> command_text("cd app\\nls\\n")
    'cd app\\r\\n> ls\\r\\n'
    """
    return "\r\n> ".join(command.rstrip("\n").split("\n")) + "\r\n"


def typed_line(line: str, keys: str) -> tuple[str, bool, str]:
    """Follow the line a learner types at the prompt, as the tty's line editing does.

    Returns the line entered (if Enter came), whether it came, and what
    follows it. Backspace deletes, Ctrl-U and Ctrl-C start over.

    >>> typed_line("sleep 1", "0\\x7f00\\rls")
    ('sleep 100', True, 'ls')
    """
    keys = _KEY_ESCAPES.sub("", keys)
    for index, key in enumerate(keys):
        if key in "\r\n":
            return line, True, typed_line("", keys[index + 1 :])[2]
        if key in "\x7f\b":
            line = line[:-1]
        elif key in "\x03\x15":
            line = ""
        elif key >= " " or key == "\t":
            line += key
    return line, False, line


class TerminalFeed:
    """The screen stream of one terminal, kept and handed to subscribers."""

    def __init__(self, cell_path: str, *, home: str = "", limit: int = 1_000_000) -> None:
        self.home = home
        self.scrollback = TailBuffer(limit)
        self.cwd = ""
        self.virtualenv = ""
        self._cell_path = cell_path
        self._engine_lines = engine_lines(cell_path)
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self._at_prompt = False  # nothing was shown since the last prompt
        self._line_start = True  # the last character shown ended a line
        self._subscribers: list[ViewCallback] = []
        self._lock = threading.Lock()

    # -- what the terminal reports ----------------------------------------------

    def feed(self, data: bytes, final: bool = False) -> None:
        """Bytes the terminal printed (``final``: the stream paused at a command's end)."""
        text = self._held + self._utf8.decode(data, final=final)
        self._held = ""
        if not final:
            cut = text.rfind("\n") + 1
            tail = text[cut:]
            at_line_start = cut > 0 or self._line_start
            if at_line_start and len(tail) > 1 and self._might_be_engine(tail):
                text, self._held = text[:cut], tail
        if text:
            self._show(hide_engine(text, self._cell_path, self._engine_lines))

    def prompt(self, cwd: str, virtualenv: str) -> None:
        """bash shows a prompt: the command before it ended, or the shell is up."""
        self.feed(b"", final=True)
        self.cwd, self.virtualenv = cwd, virtualenv
        with self._lock:
            text = ("" if self._line_start else "\r\n") + prompt_text(cwd, virtualenv, self.home)
            self._emit(text)
            self._at_prompt = True

    def command(self, command: str) -> None:
        """A cell starts ``command``: show it typed after the prompt."""
        with self._lock:
            text = ""
            if not self._at_prompt:
                text = "" if self._line_start else "\r\n"
                text += prompt_text(self.cwd, self.virtualenv, self.home)
            self._emit(text + command_text(command))

    def show_keys(self, text: str) -> None:
        """Keys a terminal would echo but this one, running a cell, does not (``^C``)."""
        self._show(text)

    def ended(self, how: str) -> None:
        """The shell ended: say so, dimmed, where the next prompt would be."""
        self.feed(b"", final=True)
        with self._lock:
            self._emit(("" if self._line_start else "\r\n") + f"\x1b[2m[{how}]\x1b[0m\r\n")

    # -- subscribers ------------------------------------------------------------

    def subscribe(self, callback: ViewCallback) -> Callable[[], None]:
        """Replay the scrollback to ``callback``, then send it the stream as it comes.

        Returns the function that unsubscribes. The replay starts at a line's
        beginning, so a cut never lands inside an escape sequence.
        """
        with self._lock:
            text = self.scrollback.text()
            if self.scrollback.dropped_chars:
                text = text[text.find("\n") + 1 :]
            if text:
                callback(text)
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    # -- internals --------------------------------------------------------------

    def _might_be_engine(self, tail: str) -> bool:
        if "__modwsgi_magics_" in tail or self._cell_path in tail:
            return True
        return any(start.startswith(tail) for start in ENGINE_LINE_STARTS)

    def _show(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._emit(text)
            self._at_prompt = False

    def _emit(self, text: str) -> None:
        if not text:
            return
        self.scrollback.append(text)
        self._line_start = text.endswith("\n")
        for callback in self._subscribers:
            callback(text)
