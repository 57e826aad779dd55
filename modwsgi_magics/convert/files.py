"""Converting on disk: read a workshop's pages, write its notebooks.

The only part of the converter that touches files; :mod:`.notebook` stays
pure. ``-o FILE.ipynb`` joins every page into one notebook (a workshop's pages
share their terminals), ``-o DIR`` writes ``DIR/PAGE.ipynb`` per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..errors import WorkshopError
from .notebook import convert, notes, read_page
from .workshop import PageFile, find_pages, notebook_names


@dataclass(frozen=True)
class WrittenNotebook:
    """One notebook written: where, and how many cells (and code cells) it has."""

    path: Path
    cells: int
    code_cells: int


@dataclass
class Conversion:
    """What a conversion wrote, and the actions it kept as notes (``page:line: ...``)."""

    written: list[WrittenNotebook] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def convert_files(sources: list[Path], output: Path) -> Conversion:
    """Convert the pages of ``sources`` into ``output`` (FILE.ipynb or DIR)."""
    files = find_pages(sources)
    pages = [read_page(file.path.read_text(encoding="utf-8"), str(file.path)) for file in files]
    join = output.suffix == ".ipynb"
    notebooks = convert(pages, join=join)
    if join:
        targets = [output]
    else:
        targets = [output / f"{name}.ipynb" for name in notebook_names(files)]
        _check_clashes(targets, files)
    conversion = Conversion(notes=notes(pages))
    for target, notebook in zip(targets, notebooks, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        code = sum(cell.cell_type == "code" for cell in notebook.cells)
        conversion.written.append(WrittenNotebook(target, len(notebook.cells), code))
    return conversion


def _check_clashes(targets: list[Path], files: list[PageFile]) -> None:
    seen: dict[Path, str] = {}
    for target, file in zip(targets, files, strict=True):
        if target in seen:
            raise WorkshopError.clash(target, seen[target], str(file.path))
        seen[target] = str(file.path)
