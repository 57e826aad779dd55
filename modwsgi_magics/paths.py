"""Finding the files the tools read, the same way for notebooks and workshop pages."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def visible_files(folder: Path, suffixes: Iterable[str], skip: Path | None = None) -> list[Path]:
    """Files under ``folder`` with one of ``suffixes``, sorted; hidden folders
    (``.ipynb_checkpoints``, ``.git``) and whatever lies under ``skip`` left out."""
    wanted = tuple(suffixes)
    skip = skip.resolve() if skip is not None else None
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.suffix in wanted
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not (skip is not None and path.resolve().is_relative_to(skip))
    ]
