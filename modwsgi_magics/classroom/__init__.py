"""A classroom on one server: JupyterHub, one account, port block and copy of the
workshop per learner (``scripts/classroom.sh``, issue #11).

Imports JupyterHub only where the hub needs it (``hub.py``, ``auth.py``): the
rest runs with this package's own dependencies.
"""

from .ports import LearnerPorts
from .settings import Settings

__all__ = ["LearnerPorts", "Settings"]
