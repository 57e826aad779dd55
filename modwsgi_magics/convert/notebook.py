"""The converter: Educates workshop Markdown in, notebooks that use the magics out.

Pure functions, no files: :func:`read_page` renders one page's templating
(:mod:`.templating`) and parses it (markdown-it-py finds the fences, so fences
in lists, block quotes and ``~~~`` fences are found as CommonMark defines
them), :func:`link` reads the pages of a workshop in order, as its terminals
would live through them (:mod:`.linking`: servers, typed-ahead commands,
prompts, clears), and :func:`to_notebook` renders cells.
"""

from __future__ import annotations

import copy
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nbformat
import yaml
from markdown_it import MarkdownIt
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..errors import WorkshopError
from ..syntax import escape
from .actions import Command, Input, Interrupt, Markdown, Note, OpenUrl, Step, classify, fence
from .linking import link_steps
from .templating import render, substitute

if sys.version_info >= (3, 11):
    import tomllib

LOAD_EXTENSION = "%load_ext modwsgi_magics"
NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}

_FRONT_MATTER = re.compile(
    r"\A(?P<fence>---|\+\+\+)[ \t]*\n(?P<yaml>.*?\n)?(?P=fence)[ \t]*(?:\n|\Z)", re.DOTALL
)
_MARKDOWN = MarkdownIt("commonmark")


@dataclass
class Page:
    """One workshop page: its name (for messages), title and steps in order.

    ``leftovers`` are ``(line, tag)`` for template tags left unsubstituted in
    its commands; ``warnings`` are ``(line, message)`` from its templating.
    """

    name: str
    title: str | None = None
    steps: list[Step] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    leftovers: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What a page is rendered with: data variables, the pathway, the renderer
    (``"classic"``, ``"hugo"``, None: decided by the page)."""

    variables: dict[str, str] = field(default_factory=dict)
    pathway: str | None = None
    renderer: str | None = None


def split_front_matter(text: str, name: str = "") -> tuple[dict[str, Any], str, int]:
    """``(front matter, body, lines before the body)`` of a page.

    Front matter is the YAML between a first line ``---`` and the next ``---``,
    or Hugo's TOML between ``+++`` lines. A page without it has ``{}``; front
    matter that does not parse is an error naming the page.
    """
    text = text.replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    source = match.group("yaml") or ""
    try:
        meta = _toml(source) if match.group("fence") == "+++" else yaml.safe_load(source) or {}
    except (yaml.YAMLError, ValueError) as err:
        raise WorkshopError.bad_front_matter(name, str(err).splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise WorkshopError.bad_front_matter(name, "it is not a mapping")
    return meta, text[match.end() :], match.group(0).count("\n")


def _toml(source: str) -> dict[str, Any]:
    """TOML front matter; on Python 3.10, without tomllib, its ``key = value`` lines."""
    if sys.version_info >= (3, 11):
        return tomllib.loads(source)
    meta: dict[str, Any] = {}
    for line in source.splitlines():
        key, equals, value = line.partition("=")
        if equals and key.strip().isidentifier():
            value = value.strip()
            meta[key.strip()] = int(value) if value.isdigit() else value.strip("\"'")
    return meta


def read_page(text: str, name: str = "", context: Context | None = None) -> Page:
    """Render one page's templating, then parse it into prose and action steps.

    Prose is kept as written, line for line; a fence that is an action cuts
    the prose around it. A ``copy`` block nested in a list or quote stays in
    its prose untouched. An action in a part of the page that does not apply
    here (a branch whose condition is false) is a Note saying so. Line numbers
    are the page file's own.
    """
    context = context or Context()
    meta, body, offset = split_front_matter(text, name)
    rendered = render(body, context.variables, context.pathway, context.renderer)
    lines = rendered.lines
    steps: list[Step] = []
    leftovers: list[tuple[int, str]] = []
    position = 0
    for token in _MARKDOWN.parse(rendered.text):
        if token.type != "fence" or token.map is None or token.map[0] < position:
            continue
        start, end = token.map
        line = offset + rendered.origin[start] + 1
        step = classify(token.info, token.content, line=line)
        if step is None or (isinstance(step, Markdown) and token.level > 0):
            continue
        why = rendered.inactive.get(start)
        if why and not isinstance(step, Markdown | Note):
            step = Note(token.info.split()[0], token.content, why, line)
        if isinstance(step, Command | Input):
            for index in range(start, end):
                for tag in rendered.leftovers.get(index, []):
                    leftovers.append((offset + rendered.origin[index] + 1, tag))
        steps += _prose(lines[position:start])
        steps.append(step)
        position = end
    steps += _prose(lines[position:])
    title = meta.get("title")
    if title is not None:
        title = substitute(str(title), context.variables)
    warnings = [(offset + origin + 1, message) for origin, message in rendered.notes]
    return Page(name, title, steps, meta, leftovers, warnings)


def _prose(lines: list[str]) -> list[Step]:
    text = "\n".join(lines).strip("\n")
    return [Markdown(text)] if text.strip() else []


def link(pages: list[Page]) -> list[Page]:
    """The pages with servers, prompts and clears worked out (see :mod:`.linking`).

    Returns new pages; the ones given are left as they were.
    """
    return link_with_log(pages)[0]


def link_with_log(pages: list[Page]) -> tuple[list[Page], list[str]]:
    """:func:`link`, and a line per command typed ahead into a busy terminal."""
    steps, log = link_steps([page.name for page in pages], [page.steps for page in pages])
    linked = [copy.copy(page) for page in pages]
    for page, page_steps in zip(linked, steps, strict=True):
        page.steps = page_steps
    return linked, log


def cell_source(step: Step) -> str | None:
    """The code cell for an action step; None for Markdown steps."""
    if isinstance(step, Command):
        options = " --bg" * step.background
        if step.background and step.wait_url:
            options += " --wait-url " + shlex.quote(step.wait_url)
        options += " --clear" * step.clear
        if step.input is not None:
            options += " --input " + shlex.quote(escape(step.input))
        return f"%%{step.magic}{options}\n{step.command}"
    if isinstance(step, Interrupt):
        return f"%%{step.magic}\n<ctrl-c>"
    if isinstance(step, Input):
        return f"%terminal input {step.terminal} {escape(step.text)}"
    if isinstance(step, OpenUrl):
        return f"%terminal open-url {step.url}"
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


def to_notebook(
    pages: list[Page], setup: Sequence[nbformat.NotebookNode] = ()
) -> nbformat.NotebookNode:
    """One notebook of ``pages`` in order: a title heading per page, the
    extension loaded first (then the ``setup`` cells), prose as Markdown
    cells, actions as magics."""
    cells: list[nbformat.NotebookNode] = []
    for number, page in enumerate(pages):
        if page.title and not _starts_with_heading(page, page.title):
            cells.append(new_markdown_cell(f"# {page.title}"))
        if number == 0:
            cells.append(new_code_cell(LOAD_EXTENSION))
            cells += copy.deepcopy(list(setup))
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


def _starts_with_heading(page: Page, title: str) -> bool:
    """Whether the page's own text opens with a heading reading ``title``."""
    first = page.steps[0] if page.steps else None
    if not isinstance(first, Markdown):
        return False
    heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", first.text.lstrip().split("\n", 1)[0])
    return heading is not None and heading.group(1).strip().lower() == title.strip().lower()


def convert(pages: list[Page], join: bool = True) -> list[nbformat.NotebookNode]:
    """Link ``pages`` as one workshop; one joined notebook, or one per page."""
    linked = link(pages)
    if join:
        return [to_notebook(linked)]
    return [to_notebook([page]) for page in linked]


def notes(pages: list[Page]) -> list[str]:
    """One line per action kept as a note: ``page:line: action: reason``."""
    return linked_notes(link(pages))


def linked_notes(linked: list[Page]) -> list[str]:
    """:func:`notes` of pages already linked."""
    return [
        f"{page.name}:{step.line}: `{step.action}` kept as a note: {step.reason}"
        for page in linked
        for step in page.steps
        if isinstance(step, Note)
    ]
