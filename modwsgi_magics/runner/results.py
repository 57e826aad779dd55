"""What a headless run reports: one dataclass per notebook, per cell, per run.

Plain data, with no nbclient in sight, so the CLI, the JUnit writer and the
tests read results without running anything; :class:`Progress` is the
callback interface the runner calls as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..engine.output import plain_text, shorten


@dataclass
class RunOptions:
    """How to run: per-cell ``timeout`` (None: no bound), kernel, where copies go,
    and whether the notebooks share ``one_kernel``."""

    timeout: float | None = None
    kernel_name: str | None = None
    output_dir: Path | None = None
    startup_timeout: float = 60.0
    one_kernel: bool = False


@dataclass(frozen=True)
class NotebookTarget:
    """A notebook to run, and its name under ``RunOptions.output_dir``."""

    path: Path
    output_name: str


@dataclass
class CellError:
    """Why a cell failed: the error's name and value, and the cell's last output."""

    ename: str
    evalue: str
    traceback: str = ""
    output: str = ""

    @property
    def text(self) -> str:
        """``Name: value``, or the end of the traceback when the value is empty."""
        if self.evalue.strip():
            return f"{self.ename}: {plain_text(self.evalue).strip()}"
        tail = plain_text(self.traceback).strip().splitlines()[-5:]
        return "\n".join(tail) or self.ename


@dataclass
class CellResult:
    """One executed code cell. ``number`` counts the notebook's code cells from 1;
    ``index`` is its position among all cells (as nbclient and nbmake count)."""

    index: int
    number: int
    total: int
    source: str
    duration: float
    error: CellError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def summary(self) -> str:
        """The first source line; for a cell magic, with the first body line."""
        lines = [line.strip() for line in self.source.splitlines() if line.strip()]
        if not lines:
            return ""
        text = lines[0]
        if text.startswith("%%") and len(lines) > 1:
            text += " | " + lines[1]
        return shorten(text, 72)


@dataclass
class NotebookResult:
    """One notebook: its cells, and what stopped it, if anything did. A notebook
    ``not_run`` (after a failure, with one kernel) has an error saying why."""

    path: Path
    not_run: bool = False
    cells: list[CellResult] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
    failed_cell: CellResult | None = None
    output_path: Path | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def detail(self) -> str:
        """What failed, in a few lines: the cell, the error, the cell's last output."""
        cell = self.failed_cell
        if cell is None or cell.error is None:
            return self.error or ""
        where = f"cell {cell.number}/{cell.total} (notebook cell #{cell.index + 1})"
        lines = [f"{where}: {cell.summary}"]
        lines += cell.error.text.splitlines()
        if cell.error.output:
            lines.append("its output ended with:")
            lines += ["  | " + line for line in cell.error.output.splitlines()]
        return "\n".join(lines)


@dataclass
class RunReport:
    """Every notebook of a run, in order, and the run's total time."""

    notebooks: list[NotebookResult] = field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return all(notebook.ok for notebook in self.notebooks)

    @property
    def failed(self) -> list[NotebookResult]:
        return [nb for nb in self.notebooks if not nb.ok and not nb.not_run]

    @property
    def not_run(self) -> list[NotebookResult]:
        return [notebook for notebook in self.notebooks if notebook.not_run]

    @property
    def interrupted(self) -> bool:
        return any(notebook.interrupted for notebook in self.notebooks)


class Progress:
    """Callbacks as the run goes; the defaults do nothing. ``position`` counts from 1."""

    def notebook_started(self, position: int, total: int, path: Path) -> None:
        pass

    def cell_finished(self, position: int, total: int, path: Path, cell: CellResult) -> None:
        pass

    def notebook_finished(self, position: int, total: int, result: NotebookResult) -> None:
        pass
