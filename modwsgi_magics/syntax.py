"""The notation of a notebook cell that uses the terminals, in one place.

The magics read it and the converter writes it, and the converter must not
import IPython, so neither owns it: the terminals' names, the magic names
with the terminals they run in, the ``<ctrl-c>`` body, and the escapes of
option values such as ``--input 'y\\n'``.
"""

from __future__ import annotations

import re

#: The terminals of a notebook: 1 on top, 2 below, as the original platform's split.
#: More start on first use: ``%%execute3``, or any name with ``--terminal NAME``.
TERMINALS: tuple[str, ...] = ("1", "2")
#: Numbered terminals with magics of their own (``%%execute3``, ``%%execute-3``).
NUMBERED_TERMINALS: tuple[str, ...] = tuple(str(number) for number in range(1, 10))
#: A terminal's name: what ``--terminal`` and ``%terminal`` accept.
TERMINAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")

_WHERE = {"1": " (the top one)", "2": " (the bottom one)"}


def _execute_magics() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    magics: list[tuple[str, tuple[str, ...], str]] = [
        ("execute", ("1",), "Run shell commands in terminal 1 (the top one).")
    ]
    for name in NUMBERED_TERMINALS:
        summary = f"Run shell commands in terminal {name}{_WHERE.get(name, '')}."
        magics += [(f"execute{name}", (name,), summary), (f"execute-{name}", (name,), summary)]
    summary = "Run shell commands in every terminal: 1, 2, then any other started."
    magics += [("execute_all", (), summary), ("execute-all", (), summary)]
    return tuple(magics)


#: The execute family: magic name, the terminals it runs in (none: every
#: terminal), what its help says. The hyphenated names are the Educates
#: spellings of the original workshops.
EXECUTE_MAGICS: tuple[tuple[str, tuple[str, ...], str], ...] = _execute_magics()

#: A cell body that means "press Ctrl-C in that terminal".
CTRL_C = re.compile(r"\s*<ctrl[-+]c>\s*", re.IGNORECASE)

_UNESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "e": "\x1b", "0": "\0"}
_ESCAPES = {char: "\\" + letter for letter, char in _UNESCAPES.items() if letter != "0"}
_ESCAPED = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")


def execute_magic(terminals: tuple[str, ...]) -> str:
    """The magic (with ``--terminal`` for a named one) that runs in ``terminals``,
    in the Educates spelling: ``execute-all``, ``execute-2``, ``execute --terminal db``."""
    if terminals == TERMINALS:
        return "execute-all"
    name = terminals[0]
    return f"execute-{name}" if name in NUMBERED_TERMINALS else f"execute --terminal {name}"


def unescape(text: str) -> str:
    r"""An option value's escapes as characters: ``\n``, ``\t``, ``\\``, ``\e``,
    and ``\xHH`` for any other control character (``\x04`` is Ctrl-D).

    >>> unescape(r"y\n\x04")
    'y\n\x04'
    """

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("x") and len(code) == 3:
            return chr(int(code[1:], 16))
        return _UNESCAPES.get(code, match.group(0))

    return _ESCAPED.sub(replace, text)


def escape(text: str) -> str:
    r"""Text as an option value on one line; :func:`unescape` gives it back.

    >>> escape("y\n\x04")
    'y\\n\\x04'
    """
    return "".join(
        _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 32 else char) for char in text
    )
