"""The converter: Educates workshop Markdown in, notebooks that use the magics out.

Pure functions, no files: :func:`read_page` parses one page (markdown-it-py
finds the fences, so fences in lists, block quotes and ``~~~`` fences are
found as CommonMark defines them), :func:`link` reads the pages of a workshop
in order, as its terminals would live through them, and :func:`to_notebook`
renders cells.

What :func:`link` works out, because a notebook cell must return where a click
on the original platform did not:

* a command that a later block interrupts, before anything else runs in
  that terminal, is a server: it becomes ``--bg`` (it would otherwise hang
  its cell until the cell's timeout);
* ``terminal:input`` for a terminal whose last command still waits for it
  becomes that command's ``--input`` (typed ahead, as a learner answering the
  prompt); input for a ``--bg`` command stays a ``%terminal input`` cell; input
  with Enter to an idle terminal is a command typed at its prompt;
* ``terminal:clear`` becomes ``--clear`` of that terminal's next command.

Pages are linked as one workshop even when each becomes its own notebook, so a
server started on one page and stopped on the next is still ``--bg``.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import nbformat
import yaml
from markdown_it import MarkdownIt
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..errors import WorkshopError
from ..syntax import TERMINALS, escape
from .actions import (
    Clear,
    Command,
    Input,
    Interrupt,
    Markdown,
    Note,
    Step,
    classify,
    fence,
)

LOAD_EXTENSION = "%load_ext modwsgi_magics"
NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_MARKDOWN = MarkdownIt("commonmark")


@dataclass
class Page:
    """One workshop page: its name (for messages), title and steps in order."""

    name: str
    title: str | None = None
    steps: list[Step] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def split_front_matter(text: str, name: str = "") -> tuple[dict[str, Any], str, int]:
    """``(front matter, body, lines before the body)`` of a page.

    Front matter is the YAML between a first line ``---`` and the next ``---``.
    A page without it has ``{}``; front matter that does not parse is an error
    naming the page.
    """
    text = text.replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    try:
        meta = yaml.safe_load(match.group("yaml") or "") or {}
    except yaml.YAMLError as err:
        raise WorkshopError.bad_front_matter(name, str(err).splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise WorkshopError.bad_front_matter(name, "it is not a mapping")
    return meta, text[match.end() :], match.group(0).count("\n")


def read_page(text: str, name: str = "") -> Page:
    """Parse one page into prose and action steps, in order.

    Prose is kept as written, line for line; a fence that is an action cuts
    the prose around it. A ``copy`` block nested in a list or quote stays in
    its prose untouched.
    """
    meta, body, offset = split_front_matter(text, name)
    lines = body.split("\n")
    steps: list[Step] = []
    position = 0
    for token in _MARKDOWN.parse(body):
        if token.type != "fence" or token.map is None or token.map[0] < position:
            continue
        start, end = token.map
        step = classify(token.info, token.content, line=offset + start + 1)
        if step is None or (isinstance(step, Markdown) and token.level > 0):
            continue
        steps += _prose(lines[position:start])
        steps.append(step)
        position = end
    steps += _prose(lines[position:])
    title = meta.get("title")
    return Page(name, str(title) if title is not None else None, steps, meta)


def _prose(lines: list[str]) -> list[Step]:
    text = "\n".join(lines).strip("\n")
    return [Markdown(text)] if text.strip() else []


def link(pages: list[Page]) -> list[Page]:
    """The pages with servers, prompts and clears worked out (see the module doc).

    Returns new pages; the ones given are left as they were.
    """
    pages = copy.deepcopy(pages)
    targets = _mark_servers(pages)
    pending: dict[str, Clear] = {}
    used: set[int] = set()
    for page in pages:
        steps: list[Step] = []
        for step in page.steps:
            if isinstance(step, Clear):
                pending.update(dict.fromkeys(step.terminals, step))
            elif isinstance(step, Command):
                consumed = [pending.pop(t) for t in step.terminals if t in pending]
                step.clear = step.clear or bool(consumed)
                used.update(id(clear) for clear in consumed)
            elif isinstance(step, Input):
                target = targets[id(step)]
                if target is None:
                    step = _idle_input(step)
                elif not target.background:
                    target.input = (target.input or "") + step.text
                    step = _answered(step)
            steps.append(step)
        page.steps = steps
    for page in pages:  # a clear that no later command used is kept as a note
        page.steps = [
            _unused_clear(step) if isinstance(step, Clear) else step
            for step in page.steps
            if not (isinstance(step, Clear) and id(step) in used)
        ]
    return pages


def _mark_servers(pages: list[Page]) -> dict[int, Command | None]:
    """Mark interrupted commands ``background``; map each Input to its command.

    Input with Enter for an idle terminal is a command typed at its prompt: it
    is turned into a Command here already, so that a later interrupt finds it.
    """
    running: dict[str, Command] = {}
    targets: dict[int, Command | None] = {}
    for page in pages:
        for index, step in enumerate(page.steps):
            if isinstance(step, Input) and step.terminal not in running and _is_typed(step):
                step = page.steps[index] = _typed_command(step)
            if isinstance(step, Input):
                targets[id(step)] = running.get(step.terminal)
            elif isinstance(step, Command):
                running.update(dict.fromkeys(step.terminals, step))
            elif isinstance(step, Interrupt):
                for terminal in step.terminals:
                    if terminal in running:
                        running.pop(terminal).background = True
    return targets


def _is_typed(step: Input) -> bool:
    """Input ending with Enter: at an idle prompt, it runs what it types."""
    return step.text.endswith("\n") and bool(step.text.strip())


def _answered(step: Input) -> Markdown:
    return Markdown(f"*`{escape(step.text)}` is typed into the waiting command above (`--input`).*")


def _typed_command(step: Input) -> Command:
    return Command((step.terminal,), step.text.rstrip("\n"), f"execute-{step.terminal}", step.line)


def _idle_input(step: Input) -> Note:
    body = yaml.safe_dump({"text": step.text, "session": int(step.terminal), "endl": False})
    reason = (
        f"nothing runs in terminal {step.terminal} to read it, and without Enter it runs "
        "nothing at the prompt"
    )
    return Note("terminal:input", body, reason, step.line)


def _unused_clear(step: Clear) -> Note:
    action = "terminal:clear-all" if step.terminals == TERMINALS else "terminal:clear"
    where = " or ".join(step.terminals)
    reason = f"no later command runs in terminal {where}, so there is nothing to clear"
    return Note(action, "", reason, step.line)


def cell_source(step: Step) -> str | None:
    """The code cell for an action step; None for Markdown steps."""
    if isinstance(step, Command):
        options = " --bg" * step.background + " --clear" * step.clear
        if step.input is not None:
            options += " --input " + shlex.quote(escape(step.input))
        return f"%%{step.magic}{options}\n{step.command}"
    if isinstance(step, Interrupt):
        return f"%%{step.magic}\n<ctrl-c>"
    if isinstance(step, Input):
        return f"%terminal input {step.terminal} {escape(step.text)}"
    return None


def markdown_source(step: Step) -> str:
    """The Markdown for a prose or note step."""
    if isinstance(step, Note):
        text = f"> **Not run in this notebook:** `{step.action}`"
        text += f" (line {step.line})" if step.line else ""
        text += f": {step.reason}."
        return text + ("\n\n" + fence(step.body.rstrip("\n"), step.action) if step.body else "")
    assert isinstance(step, Markdown), step
    return step.text


def to_notebook(pages: list[Page]) -> nbformat.NotebookNode:
    """One notebook of ``pages`` in order: a title heading per page, the
    extension loaded first, prose as Markdown cells, actions as magics."""
    cells: list[nbformat.NotebookNode] = []
    for number, page in enumerate(pages):
        if page.title:
            cells.append(new_markdown_cell(f"# {page.title}"))
        if number == 0:
            cells.append(new_code_cell(LOAD_EXTENSION))
        prose: list[str] = []
        for step in page.steps:
            source = cell_source(step)
            if source is None:
                prose.append(markdown_source(step))
                continue
            if prose:
                cells.append(new_markdown_cell("\n\n".join(prose)))
                prose = []
            cells.append(new_code_cell(source))
        if prose:
            cells.append(new_markdown_cell("\n\n".join(prose)))
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number}"
    notebook = new_notebook(cells=cells, metadata=copy.deepcopy(NOTEBOOK_METADATA))
    nbformat.validate(notebook)
    return notebook


def convert(pages: list[Page], join: bool = True) -> list[nbformat.NotebookNode]:
    """Link ``pages`` as one workshop; one joined notebook, or one per page."""
    linked = link(pages)
    if join:
        return [to_notebook(linked)]
    return [to_notebook([page]) for page in linked]


def notes(pages: list[Page]) -> list[str]:
    """One line per action kept as a note: ``page:line: action: reason``."""
    return [
        f"{page.name}:{step.line}: `{step.action}` kept as a note: {step.reason}"
        for page in link(pages)
        for step in page.steps
        if isinstance(step, Note)
    ]
