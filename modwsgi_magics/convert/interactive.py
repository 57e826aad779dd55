"""Which commands start an interactive program, and which line ends one.

A workshop opens a REPL, a container's shell or a database prompt in a
terminal, then gives blocks meant for that program, up to its ``exit``. In a
notebook the program starts with ``--bg`` (ready as soon as it waits for
keyboard input), and the blocks after it are cells the engine types into it.
Pure text rules over the command's last line.
"""

from __future__ import annotations

import re

#: A command whose last line starts a program that reads keyboard input until
#: it is told to end: a shell, a REPL, a container or remote shell, a database
#: prompt. Commands with a script or ``-c``/``-e`` to run are not interactive.
_INTERACTIVE = re.compile(
    r"""^\s*(?:sudo\s+(?:-\w+\s+)*)?(?:
        (?:ba|z|k|da)?sh (?:\s+-[il]+)?
      | su (?:\s+-)? (?:\s+[\w.-]+)?
      | sudo\s+-[is]
      | python[\d.]* (?:\s+-[iqu]+)*
      | i?python3?
      | node | irb | ghci | lua | R | julia | scala | jshell | erl | iex
      | psql (?:\s+(?!-c\b|-f\b)[^\s;|&]+)*
      | mysql (?:\s+(?!-e\b)[^\s;|&]+)*
      | (?:redis|mongo|valkey)-cli (?:\s+(?!--eval\b)-[^\s;|&]+(?:\s+[^\s;|&-][^\s;|&]*)?)*
      | mongosh (?:\s+[^\s;|&]+)*
      | sqlite3 (?:\s+[^\s;|&]+)?
      | ssh (?:\s+-\w+(?:\s+\S+)?)* \s+[\w.@-]+
      | (?:docker|podman|nerdctl) \s+ (?:run|exec|attach|container\s+(?:run|exec))
        \s+ .*?-\w*i\w*t\w*\b.*
      | kubectl \s+ (?:exec|run|attach)
        \s+ .*?(?:-\w*i\w*t\w*\b|--stdin\b.*--tty\b|--tty\b.*--stdin\b).*
    )\s*$""",
    re.VERBOSE,
)
#: A line that ends the program typed into: ``exit``, ``exit()``, ``quit()``,
#: ``\q``, ``.exit``, ``logout``.
_EXIT = re.compile(
    r"^\s*(?:exit(?:\s+\d+)?|exit\(\d*\)|quit\(\)|quit|logout|\\q|\.exit|\.quit)\s*;?\s*$"
)


def starts_interactive(command: str) -> bool:
    """True when ``command``'s last line starts a program that reads the keyboard."""
    lines = [line for line in command.strip().splitlines() if line.strip()]
    return bool(lines) and bool(_INTERACTIVE.match(lines[-1]))


def ends_interactive(command: str) -> bool:
    """True when ``command`` (typed into a program) ends with a line that exits it."""
    lines = [line for line in command.strip().splitlines() if line.strip()]
    return bool(lines) and bool(_EXIT.match(lines[-1]))
