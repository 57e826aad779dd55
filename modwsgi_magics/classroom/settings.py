"""A classroom's settings, read once from ``CLASSROOM_*`` environment variables.

``scripts/classroom.sh`` and the tests set them; the hub's configuration
(``hub.py``) and the launcher (``launcher.py``) read them here, nowhere else.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError

#: The hub's port: clear of the workshop's own 8000, 8080 and 8443, and of
#: JupyterHub's defaults (8000, 8001, 8081), which other hubs may hold.
DEFAULT_PORT = 8600
#: Processes (threads count too) one learner may run at once: a runaway loop
#: of `&` or a fork bomb stops there instead of taking the machine from the
#: room. A learner's JupyterLab, kernels, terminals and Apache use about 150.
DEFAULT_MAX_PROCESSES = 1024
#: What a learner's server keeps of the hub's environment: how pip reaches PyPI.
#: Not http_proxy: curl would send the workshop's requests to localhost through it.
PASSED_THROUGH = re.compile(r"PIP_\w+|https_proxy|HTTPS_PROXY|no_proxy|NO_PROXY|SSL_CERT_\w+")


@dataclass(frozen=True)
class Settings:
    """Everything a classroom is configured by; ``Settings.from_environ()``."""

    password: str
    port: int
    ip: str
    hub_api_port: int
    proxy_api_port: int
    state_dir: Path
    notebooks: Path
    group: str
    port_base: int
    idle_timeout: int
    nft_table: str
    proxy: str
    wheelhouse: Path
    pass_env: tuple[str, ...]
    python: str
    max_processes: int = DEFAULT_MAX_PROCESSES

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        port = _integer(env, "CLASSROOM_PORT", DEFAULT_PORT)
        state_dir = Path(env.get("CLASSROOM_STATE_DIR", "/var/lib/modwsgi-classroom"))
        return cls(
            password=env.get("CLASSROOM_PASSWORD", ""),
            port=port,
            ip=env.get("CLASSROOM_IP", ""),
            hub_api_port=_integer(env, "CLASSROOM_HUB_API_PORT", port + 1),
            proxy_api_port=_integer(env, "CLASSROOM_PROXY_API_PORT", port + 2),
            state_dir=state_dir,
            notebooks=Path(env.get("CLASSROOM_NOTEBOOKS", state_dir / "notebooks")),
            group=env.get("CLASSROOM_GROUP", "classroom-learners"),
            port_base=_integer(env, "CLASSROOM_PORT_BASE", 20000),
            idle_timeout=_integer(env, "CLASSROOM_IDLE_TIMEOUT", 3600),
            nft_table=env.get("CLASSROOM_NFT_TABLE", "modwsgi_classroom"),
            proxy=env.get("CLASSROOM_PROXY") or _proxy_command(),
            # world-readable, unlike the state folder (0700: the hub's database, passwords)
            wheelhouse=Path(env.get("CLASSROOM_WHEELHOUSE", "/var/cache/modwsgi-classroom/wheels")),
            pass_env=tuple(env.get("CLASSROOM_PASS_ENV", "").split()),
            python=sys.executable,
            max_processes=_integer(env, "CLASSROOM_MAX_PROCESSES", DEFAULT_MAX_PROCESSES),
        )

    @property
    def venv_bin(self) -> Path:
        """Where the hub's own programs are (jupyterhub-singleuser, the culler)."""
        return Path(self.python).parent

    def server_command(self) -> list[str]:
        """How the spawner starts a learner's JupyterLab: under ``prlimit``, so
        that the learner's processes, all of them, stay under ``max_processes``
        (RLIMIT_NPROC counts per user). 0: no limit."""
        singleuser = str(self.venv_bin / "jupyterhub-singleuser")
        if self.max_processes <= 0:
            return [singleuser]
        prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
        return [prlimit, f"--nproc={self.max_processes}", "--", singleuser]

    def passed_environment(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """What the learners' servers keep of the hub's environment."""
        env = os.environ if environ is None else environ
        return {
            key: value
            for key, value in env.items()
            if PASSED_THROUGH.fullmatch(key) or key in self.pass_env
        }


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


def _proxy_command() -> str:
    """configurable-http-proxy: beside the hub's venv (scripts/setup.sh puts it
    there with npm), else on PATH."""
    beside = Path(sys.prefix) / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if beside.exists():
        return str(beside)
    return shutil.which("configurable-http-proxy") or "configurable-http-proxy"
