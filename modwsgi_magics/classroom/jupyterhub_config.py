"""What JupyterHub reads: ``jupyterhub -f .../classroom/jupyterhub_config.py``.

All settings come from ``CLASSROOM_*`` environment variables (``settings.py``).
"""

from modwsgi_magics.classroom.hub import configure
from modwsgi_magics.classroom.settings import Settings

configure(get_config(), Settings.from_environ())  # type: ignore[name-defined]  # noqa: F821
