"""The runner: notebooks executed headlessly with nbclient, reported cell by cell.

``execute`` runs them, ``results`` holds what a run reports, ``junit`` writes
that as JUnit XML. It prints nothing; the CLI formats.
"""

from .execute import find_notebooks, run_notebook, run_notebooks
from .results import CellResult, NotebookResult, Progress, RunOptions, RunReport

__all__ = [
    "CellResult",
    "NotebookResult",
    "Progress",
    "RunOptions",
    "RunReport",
    "find_notebooks",
    "run_notebook",
    "run_notebooks",
]
