"""What the command-line tools refuse: requests they cannot carry out.

``modwsgi-magics run`` and ``convert`` raise :class:`ToolError`s; the CLI
prints the message, which says what was wrong and what to do, and exits with
status 2.
"""

from __future__ import annotations

from pathlib import Path


class ToolError(Exception):
    """Base class: the message is shown as it is, without a traceback."""


class NotebookNotFound(ToolError, FileNotFoundError):
    """A PATH given to ``run`` is missing or holds no notebook."""

    @classmethod
    def missing(cls, path: Path) -> NotebookNotFound:
        return cls(f"{path}: no such file or folder")

    @classmethod
    def empty(cls, path: Path) -> NotebookNotFound:
        return cls(f"{path}: no notebooks (*.ipynb) in this folder")


class NotebookUnreadable(ToolError, ValueError):
    """A file given to ``run`` is not a notebook nbformat can read."""

    @classmethod
    def from_error(cls, path: Path, error: Exception) -> NotebookUnreadable:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return cls(f"{path}: not a readable notebook ({first})")


class ConverterMissing(ToolError, ImportError):
    """``convert`` needs the ``convert`` extra (markdown-it-py, PyYAML), not installed."""

    #: The modules the extra brings, by import name.
    MODULES = frozenset({"markdown_it", "yaml"})

    @classmethod
    def from_error(cls, error: ModuleNotFoundError) -> ConverterMissing:
        return cls(
            f"the converter needs the 'convert' extra (no module named {error.name!r}); "
            "install it with: pip install 'modwsgi_magics[convert]'"
        )


class WorkshopError(ToolError, ValueError):
    """A workshop page or folder that ``convert`` cannot read."""

    @classmethod
    def missing(cls, path: Path) -> WorkshopError:
        return cls(f"{path}: no such file or folder")

    @classmethod
    def no_pages(cls, folder: Path) -> WorkshopError:
        return cls(f"{folder}: no Markdown pages (*.md) found; AsciiDoc pages are not supported")

    @classmethod
    def none_listed(cls, config: Path, content: Path) -> WorkshopError:
        return cls(f"{config} lists no page that {content} has")

    @classmethod
    def no_pathway(cls, config: Path, name: object, paths: list[str]) -> WorkshopError:
        which = "names no default pathway" if name is None else f"has no pathway {name!r}"
        return cls(
            f"{config} {which}; choose one of {', '.join(paths)} with --var pathway_name=NAME"
        )

    @classmethod
    def bad_variable(cls, text: str) -> WorkshopError:
        return cls(f"--var {text!r}: give NAME=VALUE")

    @classmethod
    def bad_config(cls, config: Path, problem: str) -> WorkshopError:
        return cls(f"{config}: {problem}")

    @classmethod
    def bad_front_matter(cls, page: str, problem: str) -> WorkshopError:
        return cls(f"{page}: the YAML front matter does not parse ({problem})")

    @classmethod
    def clash(cls, target: Path, first: str, second: str) -> WorkshopError:
        return cls(
            f"{first} and {second} would both be written to {target}; convert them "
            "separately, or join them into one notebook with -o FILE.ipynb"
        )
