"""A workshop's ``exercises/`` folder: where its commands run (pure).

Educates copies a workshop's ``exercises/`` folder to ``~/exercises`` and
starts the terminals there. A converted workshop gets the folder copied beside
its notebooks (by :mod:`.files`), a first cell that starts both terminals in
it and sets ``$EXERCISES`` to it, and its commands' ``~/exercises`` (and
``$HOME/exercises``) read ``$EXERCISES``: the commands run in the same place,
without touching the learner's home folder.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell

#: The variable the terminals hold the exercises folder in.
VARIABLE = "EXERCISES"

_HOME_WORD = re.compile(r"~/exercises(?![\w.-])")
_HOME_VARIABLE = re.compile(r"(?:\$HOME|\$\{HOME\})/exercises(?![\w.-])")
_WORD_START = set(" \t\n;|&()=:`")


def setup_cells(relative: str) -> list[NotebookNode]:
    """The cells that start both terminals in the exercises folder, found at
    ``relative`` (a POSIX path) from the notebook's folder.

    A terminal that has ``$EXERCISES`` already (notebooks run in one kernel)
    is left where it is, as the original platform's terminals would be.
    """
    explain = new_markdown_cell(
        "*On the original platform this workshop's `exercises/` folder is `~/exercises`, "
        f"and the terminals start there. Here it is `{relative}/` beside this notebook: the "
        f"next cell starts both terminals in it, and the commands read `~/exercises` as "
        f"`${VARIABLE}`.*"
    )
    source = (
        "%%execute-all\n"
        f'if [ -z "${{{VARIABLE}:-}}" ]; then\n'
        f'    export {VARIABLE}="$PWD/{relative}" && cd "${VARIABLE}"\n'
        "fi"
    )
    return [explain, new_code_cell(source)]


def rewrite(command: str) -> str:
    """``command`` with ``~/exercises`` and ``$HOME/exercises`` as ``$EXERCISES``,
    quoted where bash would otherwise split it; text in single quotes is left."""
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(command):
        char = command[index]
        if quote != "'" and char == "\\" and index + 1 < len(command):
            out.append(command[index : index + 2])
            index += 2
            continue
        if quote is None:
            start = index == 0 or command[index - 1] in _WORD_START
            home = _HOME_WORD.match(command, index) if start else None
            home = home or _HOME_VARIABLE.match(command, index)
            if home:
                out.append(f'"${VARIABLE}"')
                index = home.end()
                continue
            if char in "'\"":
                quote = char
        elif quote == '"':
            home = _HOME_VARIABLE.match(command, index)
            if home:
                out.append(f"${VARIABLE}")
                index = home.end()
                continue
            if char == '"':
                quote = None
        elif char == "'":
            quote = None
        out.append(char)
        index += 1
    return "".join(out)
