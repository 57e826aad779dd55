"""Finding a workshop's pages, in the workshop's own order, and what its
configuration says about them (titles, data variables, pathway, folders).

A SRC given to ``modwsgi-magics convert`` is a Markdown page, or a workshop
folder. For a folder, the pages are the ``*.md`` files under its content
folder: ``workshop/content/`` if there is one, else ``content/``, else the
folder itself (a Hugo page bundle ``NAME/index.md`` or ``NAME/_index.md`` is
the page ``NAME``). Which pages, in which order, is the first of these that the
workshop has:

1. Hugo's ``config.yaml`` beside the content folder: the ``steps`` of the
   pathway converted (``pathways.default``, or ``--var pathway_name=NAME``);
2. ``workshop.yaml`` beside the content folder: its ``modules.activate`` list;
3. ``modules.yaml`` beside the content folder: the order of its ``modules``;
4. ``weight`` in the pages' front matter (pages without one come last);
5. the file names, numbers compared as numbers (``2-x`` before ``10-y``).

Pages that (1) to (3) do not list are left out, as the original platform
leaves them out; a page they list that does not exist is left out with a
warning.

A page's title is its ``name`` in ``modules.yaml`` (the classic layout) or its
``title`` in ``config.yaml``'s ``modules`` (Hugo), else the front matter's
``title`` (read later, with the page), else one made from its file name.

Data variables get their defaults from ``modules.yaml`` (``config.vars``),
``workshop.yaml`` (``vars``) and ``config.yaml`` (``params``, also under the
pathway); ``convert --var NAME=VALUE`` overrides them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import WorkshopError
from ..paths import visible_files
from .notebook import split_front_matter
from .templating import renderer_of

PAGE_SUFFIXES = (".md", ".markdown")
#: The data variable holding the name of the pathway converted (as on Educates).
PATHWAY_VARIABLE = "pathway_name"


@dataclass(frozen=True)
class Workshop:
    """A workshop folder: where its parts are, and what its configuration says.

    ``root`` holds ``workshop/`` and ``exercises/``; ``static`` is Hugo's
    ``workshop/static``; ``renderer`` is ``"hugo"`` when a ``config.yaml``
    configures Hugo (or, with no configuration, when the workshop has static
    files or a page uses a shortcode), ``"classic"`` when ``modules.yaml`` or
    ``workshop.yaml`` configures the classic renderer, else None.
    """

    root: Path
    content: Path
    static: Path | None = None
    exercises: Path | None = None
    variables: dict[str, str] = field(default_factory=dict)
    pathway: str | None = None
    renderer: str | None = None


@dataclass(frozen=True)
class PageFile:
    """A page to convert: its name in the workshop (``exercises/01-intro``), file,
    the title its workshop's configuration gives it, and that workshop."""

    name: str
    path: Path
    title: str | None = None
    workshop: Workshop | None = None


def find_pages(
    sources: list[Path],
    variables: dict[str, str] | None = None,
    warnings: list[str] | None = None,
) -> list[PageFile]:
    """The pages of every SRC, in the order given; folders in their workshop order.

    ``variables`` (``--var``) may choose the pathway (``pathway_name``); what
    is left out with a reason is appended to ``warnings``.
    """
    pages: list[PageFile] = []
    for source in sources:
        if source.is_dir():
            pages += workshop_pages(source, variables, warnings)
        elif source.is_file():
            pages.append(_single_page(source))
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


def workshop_pages(
    folder: Path,
    variables: dict[str, str] | None = None,
    warnings: list[str] | None = None,
) -> list[PageFile]:
    """The pages of the workshop in ``folder``, in the order described above."""
    content = content_folder(folder)
    found = {_page_name(path, content): path for path in visible_files(content, PAGE_SUFFIXES)}
    if not found:
        raise WorkshopError.no_pages(folder)
    config = content.parent if content.name == "content" else content
    settings = _Settings.read(config, (variables or {}).get(PATHWAY_VARIABLE))
    static = _folder(config / "static")
    renderer = settings.renderer
    if renderer is None and (static is not None or _uses_shortcodes(found.values())):
        renderer = "hugo"  # a workshop is written for one renderer, not page by page
    workshop = Workshop(
        root=_root_of(content),
        content=content,
        static=static,
        exercises=_folder(_root_of(content) / "exercises"),
        variables=settings.variables,
        pathway=settings.pathway,
        renderer=renderer,
    )
    if settings.order is not None:
        config_file, names = settings.order
        pages = []
        for name in names:
            if name in found:
                pages.append(PageFile(name, found[name], settings.titles.get(name), workshop))
            elif warnings is not None:
                warnings.append(
                    f"{config_file} lists {name!r}, but {content} has no {name}.md: left out"
                )
        if not pages:
            raise WorkshopError.none_listed(config_file, content)
        return pages
    weights = {name: _weight(path, name) for name, path in found.items()}
    order = sorted(found, key=lambda name: (weights[name], natural_key(name)))
    return [PageFile(name, found[name], settings.titles.get(name), workshop) for name in order]


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key comparing digit runs as numbers: ``2-x`` sorts before ``10-y``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", name)
        if part
    )


def title_from_name(name: str) -> str:
    """A title for a page that has none: ``exercises/01-installing-mod_wsgi``
    gives ``Installing mod_wsgi``."""
    last = name.rsplit("/", 1)[-1]
    words = re.sub(r"^\d+[-_. ]*", "", last).replace("-", " ").strip() or last
    return words[:1].upper() + words[1:]


# -- configuration ------------------------------------------------------------


@dataclass
class _Settings:
    """What a workshop's configuration files say: order, titles, variables."""

    order: tuple[Path, list[str]] | None = None
    titles: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    pathway: str | None = None
    renderer: str | None = None

    @classmethod
    def read(cls, config: Path, pathway: str | None) -> _Settings:
        settings = cls()
        modules_file, workshop_file, hugo_file = (
            config / "modules.yaml",
            config / "workshop.yaml",
            config / "config.yaml",
        )
        if modules_file.is_file() or workshop_file.is_file():
            settings.renderer = "classic"
            settings._read_classic(modules_file, workshop_file)
        if hugo_file.is_file():
            settings.renderer = "hugo"
            settings._read_hugo(hugo_file, pathway)
        if pathway is not None:
            settings.pathway = pathway
        if settings.pathway is not None:
            settings.variables.setdefault(PATHWAY_VARIABLE, settings.pathway)
        return settings

    def _read_classic(self, modules_file: Path, workshop_file: Path) -> None:
        modules_yaml = _load_yaml(modules_file)
        modules = modules_yaml.get("modules")
        if isinstance(modules, dict):
            for name, entry in modules.items():
                if isinstance(entry, dict) and entry.get("name") is not None:
                    self.titles[str(name)] = str(entry["name"])
        self._add_variables(_mapping(modules_yaml.get("config")).get("vars"))
        workshop_yaml = _load_yaml(workshop_file)
        for name, value in _mapping(workshop_yaml.get("vars")).items():
            self.variables[str(name)] = _text(value)
        activate = _mapping(workshop_yaml.get("modules")).get("activate")
        if isinstance(activate, list) and activate:
            self.order = (workshop_file, [str(name) for name in activate])
        elif isinstance(modules, dict | list) and modules:
            self.order = (modules_file, [str(name) for name in modules])

    def _read_hugo(self, hugo_file: Path, wanted: str | None) -> None:
        data = _load_yaml(hugo_file)
        modules = data.get("modules")
        if isinstance(modules, list):
            for entry in modules:
                entry = _mapping(entry)
                if entry.get("name") is not None and entry.get("title") is not None:
                    self.titles[str(entry["name"])] = str(entry["title"])
        self._add_variables(data.get("params"))
        pathways = _mapping(data.get("pathways"))
        paths = _mapping(pathways.get("paths"))
        if not paths:
            return
        name = wanted or pathways.get("default")
        if name is None and len(paths) == 1:
            name = next(iter(paths))
        if name is None or str(name) not in paths:
            raise WorkshopError.no_pathway(hugo_file, name, [str(p) for p in paths])
        self.pathway = str(name)
        path = _mapping(paths[self.pathway])
        self._add_variables(path.get("params"))
        steps = path.get("steps")
        if isinstance(steps, list) and steps:
            self.order = (hugo_file, [str(step) for step in steps])

    def _add_variables(self, entries: object) -> None:
        """``[{name: N, value: V}, ...]``, the form of ``config.vars`` and ``params``."""
        if not isinstance(entries, list):
            return
        for entry in entries:
            entry = _mapping(entry)
            if entry.get("name") is not None and "value" in entry:
                self.variables[str(entry["name"])] = _text(entry["value"])


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _folder(path: Path) -> Path | None:
    return path if path.is_dir() else None


def _root_of(content: Path) -> Path:
    """The folder holding ``workshop/`` (and ``exercises/``) of a content folder."""
    if content.name == "content" and content.parent.name == "workshop":
        return content.parent.parent
    if content.name == "content":
        return content.parent
    return content


def _single_page(path: Path) -> PageFile:
    """A page given on its own; when it lies in a workshop's content folder,
    with that workshop and the title its configuration gives it."""
    for parent in path.resolve().parents:
        if parent.name == "content":
            config = parent.parent
            settings = _Settings.read(config, None)
            root = _root_of(parent)
            workshop = Workshop(
                root=root,
                content=parent,
                static=_folder(config / "static"),
                exercises=_folder(root / "exercises"),
                variables=settings.variables,
                pathway=settings.pathway,
                renderer=settings.renderer,
            )
            name = _page_name(path.resolve(), parent)
            return PageFile(_stem(path), path, settings.titles.get(name), workshop)
    return PageFile(_stem(path), path)


def _stem(path: Path) -> str:
    """A single page's name: a Hugo bundle's ``index.md`` is named by its folder."""
    return path.parent.name if path.stem in ("index", "_index") and path.parent.name else path.stem


def _uses_shortcodes(paths: Iterable[Path]) -> bool:
    return any(renderer_of(path.read_text(encoding="utf-8")) == "hugo" for path in paths)


def _page_name(path: Path, content: Path) -> str:
    relative = path.relative_to(content).with_suffix("")
    if relative.name in ("index", "_index") and relative.parent != Path("."):
        relative = relative.parent  # a Hugo page bundle
    return relative.as_posix()


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
