"""The runner: notebooks executed headlessly with nbclient, reported cell by cell.

``execute`` runs them, ``results`` holds what a run reports, ``junit`` writes
that as JUnit XML. It prints nothing; the CLI formats.
"""

import os

# Older ipykernels import debugpy wherever jupyter_client looks for the native
# kernel, and on Python 3.11 debugpy then warns about frozen modules on this
# process's stderr: a run's output shows only the run's own messages.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from .execute import find_notebooks, run_notebook, run_notebooks  # noqa: E402
from .results import CellResult, NotebookResult, Progress, RunOptions, RunReport  # noqa: E402

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
