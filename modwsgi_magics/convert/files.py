"""Converting on disk: read a workshop's pages, write its notebooks and files.

The only part of the converter that touches files; the others stay pure.
``-o FILE.ipynb`` joins every page into one notebook (a workshop's pages
share their terminals), ``-o DIR`` writes ``DIR/PAGE.ipynb`` per page. Beside
the notebooks go the images the pages show (``images/``) and the workshop's
``exercises/`` folder.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..errors import WorkshopError
from .actions import Command, Markdown
from .exercises import rewrite as rewrite_exercises
from .exercises import setup_cells
from .images import local_path, rewrite_images
from .notebook import Context, Page, link_with_log, linked_notes, read_page, to_notebook
from .templating import variable_of
from .workshop import PATHWAY_VARIABLE, PageFile, find_pages, notebook_names, title_from_name

#: The folder beside the notebooks that the pages' images are copied to.
IMAGES = "images"
EXERCISES = "exercises"


@dataclass(frozen=True)
class WrittenNotebook:
    """One notebook written: where, and how many cells (and code cells) it has."""

    path: Path
    cells: int
    code_cells: int


@dataclass
class Conversion:
    """What a conversion wrote; the actions it kept as notes and what else the
    author should know (``page:line: ...``); the files it copied."""

    written: list[WrittenNotebook] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    exercises: Path | None = None


def convert_files(
    sources: list[Path], output: Path, variables: dict[str, str] | None = None
) -> Conversion:
    """Convert the pages of ``sources`` into ``output`` (FILE.ipynb or DIR),
    with the data variables ``variables`` (``--var``)."""
    variables = dict(variables or {})
    conversion = Conversion()
    files = find_pages(sources, variables, conversion.warnings)
    pages = [_read(file, variables) for file in files]
    join = output.suffix == ".ipynb"
    base = output.parent if join else output
    if join:
        targets = [output]
    else:
        targets = [output / f"{name}.ipynb" for name in notebook_names(files)]
        _check_clashes(targets, files)
    linked, log = link_with_log(pages)
    conversion.notes = linked_notes(linked) + log
    conversion.warnings += _template_warnings(pages)
    images = _Images(base / IMAGES, conversion)
    page_targets = [output] * len(files) if join else targets
    for file, page, target in zip(files, linked, page_targets, strict=True):
        _show_images(page, file, images, target.parent)
    exercises = _exercises(files, conversion)
    if exercises is not None:
        for page in linked:
            for step in page.steps:
                if isinstance(step, Command):
                    step.command = rewrite_exercises(step.command)
    if join:
        groups = [(output, linked)]
    else:
        groups = [(target, [page]) for target, page in zip(targets, linked, strict=True)]
    for target, notebook_pages in groups:
        setup = []
        if exercises is not None:
            relative = Path(os.path.relpath(base / EXERCISES, target.parent)).as_posix()
            setup = setup_cells(relative)
        notebook = to_notebook(notebook_pages, setup)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        code = sum(cell.cell_type == "code" for cell in notebook.cells)
        conversion.written.append(WrittenNotebook(target, len(notebook.cells), code))
    images.copy()
    if exercises is not None:
        conversion.exercises = _copy_exercises(exercises, base / EXERCISES)
    return conversion


def _read(file: PageFile, variables: dict[str, str]) -> Page:
    workshop = file.workshop
    merged = dict(workshop.variables) if workshop else {}
    merged.update(variables)
    pathway = variables.get(PATHWAY_VARIABLE) or (workshop.pathway if workshop else None)
    context = Context(merged, pathway, workshop.renderer if workshop else None)
    page = read_page(file.path.read_text(encoding="utf-8"), str(file.path), context)
    page.title = file.title or page.title or title_from_name(file.name)
    return page


def _template_warnings(pages: list[Page]) -> list[str]:
    warnings = []
    for page in pages:
        for line, message in page.warnings:
            warnings.append(f"{page.name}:{line}: {message}")
        for line, tag in page.leftovers:
            name = variable_of(tag)
            hint = f"; give --var {name}=VALUE" if name else ""
            warnings.append(f"{page.name}:{line}: `{tag}` is left as written in a code cell{hint}")
    return warnings


# -- images -------------------------------------------------------------------


class _Images:
    """The images the notebooks show, copied to one folder under unique names."""

    def __init__(self, folder: Path, conversion: Conversion) -> None:
        self.folder = folder
        self.conversion = conversion
        self.names: dict[Path, str] = {}  # source file -> its name in the folder
        self.taken: dict[str, Path] = {}

    def name(self, source: Path) -> str:
        source = source.resolve()
        if source in self.names:
            return self.names[source]
        stem = re.sub(r"[^\w.-]+", "-", source.stem).strip("-") or "image"
        suffix = re.sub(r"[^\w.]+", "", source.suffix)
        number = 1
        while True:
            name = f"{stem}{'' if number == 1 else f'-{number}'}{suffix}"
            existing = self.folder / name
            free = name not in self.taken and (
                not existing.exists() or filecmp.cmp(existing, source, shallow=False)
            )
            if free:
                break
            number += 1
        self.names[source] = name
        self.taken[name] = source
        return name

    def copy(self) -> None:
        for name, source in self.taken.items():
            target = self.folder / name
            if target.exists() and filecmp.cmp(target, source, shallow=False):
                self.conversion.images.append(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            self.conversion.images.append(target)


def _show_images(page: Page, file: PageFile, images: _Images, notebook_folder: Path) -> None:
    """Point the page's image links at copies beside the notebook; a link to
    a file that is not there is a warning, and stays as written."""

    def replace(url: str) -> str | None:
        path = local_path(url)
        if path is None:
            return None
        source = _find_image(path, file)
        if source is None:
            images.conversion.warnings.append(
                f"{page.name}: image {url} not found (looked beside the page and in the "
                "workshop's folders); the link is left as written"
            )
            return None
        target = images.folder / images.name(source)
        return Path(os.path.relpath(target, notebook_folder)).as_posix()

    for step in page.steps:
        if isinstance(step, Markdown):
            step.text = rewrite_images(step.text, replace)


def _find_image(path: str, file: PageFile) -> Path | None:
    """The file an image path of ``file`` names, where the original site would
    find it: beside the page (a Hugo bundle's own folder), or for a path from
    the site's root in the workshop's folders. Educates serves the Hugo site
    under ``/workshop/content/``, so ``/workshop/content/x.png`` is
    ``workshop/static/x.png`` there, and ``workshop/content/x.png`` for the
    classic renderer."""
    page_folder = file.path.parent
    candidates: list[Path] = []
    workshop = file.workshop
    if path.startswith("/"):
        relative = path.lstrip("/")
        if workshop is not None:
            candidates.append(workshop.root / relative)
            for prefix in ("workshop/content/", ""):
                if relative.startswith(prefix):
                    inner = relative[len(prefix) :]
                    candidates += [
                        folder / inner
                        for folder in (workshop.static, workshop.content)
                        if folder is not None
                    ]
        candidates += [parent / relative for parent in page_folder.resolve().parents]
    else:
        candidates.append(page_folder / path)
        if workshop is not None and workshop.static is not None:
            candidates += [workshop.static / file.name / path, workshop.static / path]
    return next((c for c in candidates if c.is_file()), None)


# -- exercises ----------------------------------------------------------------


def _exercises(files: list[PageFile], conversion: Conversion) -> Path | None:
    found = list(dict.fromkeys(f.workshop.exercises for f in files if f.workshop is not None))
    folders = [folder for folder in found if folder is not None]
    for other in folders[1:]:
        conversion.warnings.append(
            f"{other}: only the first workshop's exercises folder ({folders[0]}) is copied"
        )
    return folders[0] if folders else None


def _copy_exercises(source: Path, target: Path) -> Path:
    if source.resolve() != target.resolve():
        shutil.copytree(
            source, target, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git")
        )
    return target


def _check_clashes(targets: list[Path], files: list[PageFile]) -> None:
    seen: dict[Path, str] = {}
    for target, file in zip(targets, files, strict=True):
        if target in seen:
            raise WorkshopError.clash(target, seen[target], str(file.path))
        seen[target] = str(file.path)
