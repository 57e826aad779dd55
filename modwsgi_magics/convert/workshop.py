"""Finding a workshop's pages, in the workshop's own order.

A SRC given to ``modwsgi-magics convert`` is a Markdown page, or a workshop
folder. For a folder, the pages are the ``*.md`` files under its content
folder: ``workshop/content/`` if there is one, else ``content/``, else the
folder itself (a Hugo page bundle ``NAME/index.md`` is the page ``NAME``).
Their order is the first of these that the workshop has:

1. ``workshop.yaml`` beside the content folder: its ``modules.activate`` list;
2. ``modules.yaml`` beside the content folder: the order of its ``modules``;
3. ``weight`` in the pages' front matter (pages without one come last);
4. the file names, numbers compared as numbers (``2-x`` before ``10-y``).

A page that (1) or (2) lists must exist; pages they do not list are left out,
as the original platform leaves them out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import WorkshopError
from ..paths import visible_files
from .notebook import split_front_matter

PAGE_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class PageFile:
    """A page to convert: its name in the workshop (``exercises/01-intro``) and file."""

    name: str
    path: Path


def find_pages(sources: list[Path]) -> list[PageFile]:
    """The pages of every SRC, in the order given; folders in their workshop order."""
    pages: list[PageFile] = []
    for source in sources:
        if source.is_dir():
            pages += workshop_pages(source)
        elif source.is_file():
            pages.append(PageFile(source.stem, source))
        else:
            raise WorkshopError.missing(source)
    return pages


def notebook_names(pages: list[PageFile]) -> list[str]:
    """Names for one notebook a page (no suffix) that sort in the pages' order.

    Page names are kept when they already sort that way (``01-setup``);
    otherwise each is numbered: ``01-setup``, ``02-server``, ...
    """
    names = [page.name for page in pages]
    if sorted(names, key=natural_key) == names:
        return names
    width = len(str(len(names)))
    return [
        f"{number:0{max(2, width)}d}-{name.replace('/', '-')}"
        for number, name in enumerate(names, 1)
    ]


def content_folder(folder: Path) -> Path:
    for candidate in (folder / "workshop" / "content", folder / "content"):
        if candidate.is_dir():
            return candidate
    return folder


def workshop_pages(folder: Path) -> list[PageFile]:
    """The pages of the workshop in ``folder``, in the order described above."""
    content = content_folder(folder)
    found = {_page_name(path, content): path for path in visible_files(content, PAGE_SUFFIXES)}
    if not found:
        raise WorkshopError.no_pages(folder)
    config = content.parent if content.name == "content" else content
    listed = _listed_order(config)
    if listed is not None:
        config_file, names = listed
        missing = [name for name in names if name not in found]
        if missing:
            raise WorkshopError.unlisted(config_file, missing[0], content)
        return [PageFile(name, found[name]) for name in names]
    weights = {name: _weight(path, name) for name, path in found.items()}
    order = sorted(found, key=lambda name: (weights[name], natural_key(name)))
    return [PageFile(name, found[name]) for name in order]


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key comparing digit runs as numbers: ``2-x`` sorts before ``10-y``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", name)
        if part
    )


def _page_name(path: Path, content: Path) -> str:
    relative = path.relative_to(content).with_suffix("")
    if relative.name == "index" and relative.parent != Path("."):
        relative = relative.parent  # a Hugo page bundle
    return relative.as_posix()


def _listed_order(config: Path) -> tuple[Path, list[str]] | None:
    """The page names ``workshop.yaml`` activates, else those ``modules.yaml`` lists."""
    modules = _load_yaml(config / "workshop.yaml").get("modules")
    activate = modules.get("activate") if isinstance(modules, dict) else None
    if isinstance(activate, list) and activate:
        return config / "workshop.yaml", [str(name) for name in activate]
    listed = _load_yaml(config / "modules.yaml").get("modules")
    if isinstance(listed, dict | list) and listed:
        return config / "modules.yaml", [str(name) for name in listed]
    return None


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise WorkshopError.bad_config(path, str(err).splitlines()[0]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WorkshopError.bad_config(path, "expected a YAML mapping")
    return data


def _weight(path: Path, name: str) -> float:
    meta, _, _ = split_front_matter(path.read_text(encoding="utf-8"), name)
    weight = meta.get("weight")
    return float(weight) if isinstance(weight, int | float) else math.inf
