"""A learner's server: made ready before it starts, cleaned up after it stops.

The hub calls :meth:`LearnerServers.prepare` as the spawner's pre-spawn hook and
:meth:`LearnerServers.clean_up` as its post-stop hook:

* before: the learner's account (``accounts.py``), their copy of the workshop,
  their port block (``ports.py``) for JupyterLab and the workshop's servers,
  the firewall rules for every learner's block (``firewall.py``), and the
  environment their server, kernels and terminals see;
* after: every process of the learner ended. Stopping a server (the learner's
  *Stop My Server*, the idle culler, the hub shutting down) stops JupyterLab,
  which shuts its kernels down, whose watchdogs end all their terminals'
  processes, Apache included; what a JupyterLab terminal left running with
  ``nohup`` or ``setsid`` is ended here.
"""

from __future__ import annotations

import asyncio
import pwd
from typing import Any

from . import accounts, firewall
from .ports import LearnerPorts
from .settings import Settings

#: The learner's PATH: the system's tools and Python, as on a machine of their own.
LEARNER_PATH = "/usr/local/bin:/usr/bin:/bin"


class LearnerServers:
    """The spawner hooks of one classroom: ``LearnerServers(Settings.from_environ())``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"LearnerServers({self.settings!r})"

    async def prepare(self, spawner: Any) -> None:
        """Pre-spawn hook: account, notebooks, ports, firewall, environment."""
        name = spawner.user.name
        entry, ports = await asyncio.to_thread(self._prepare, name)
        spawner.port = ports.lab
        spawner.environment = self.environment(entry, ports)
        block = ", ".join(map(str, ports.all))
        spawner.log.info("classroom: %s (uid %d) gets ports %s", name, entry.pw_uid, block)

    async def clean_up(self, spawner: Any) -> None:
        """Post-stop hook: no process of the learner is left."""
        uid = pwd.getpwnam(spawner.user.name).pw_uid
        killed = await asyncio.to_thread(accounts.end_processes, uid)
        if killed:
            spawner.log.info("classroom: ended what %s left: %s", spawner.user.name, killed)

    def guard_all(self) -> None:
        """Firewall rules for every learner the classroom has (at hub start too)."""
        blocks = []
        for entry in accounts.learners(self.settings.group):
            try:
                blocks.append(LearnerPorts.of(entry.pw_uid, self.settings.port_base))
            except ValueError:
                continue  # such a learner cannot start a server either
        firewall.apply(self.settings.nft_table, blocks)

    def environment(self, entry: pwd.struct_passwd, ports: LearnerPorts) -> dict[str, str]:
        """What the learner's server, and so their kernels and terminals, start with."""
        return {
            **self.settings.passed_environment(),
            "PATH": LEARNER_PATH,
            "LANG": "C.UTF-8",
            "LOGNAME": entry.pw_name,
            # mod_wsgi-express's server roots and the terminals' scratch folders go
            # here, in the learner's 0700 home, not in the shared /tmp.
            "TMPDIR": f"{entry.pw_dir}/{accounts.TMP_FOLDER}",
            # pip installs the wheel of mod_wsgi built once for the class, if any.
            "PIP_FIND_LINKS": " ".join(
                [str(self.settings.wheelhouse), *self._find_links()]
            ).strip(),
            **ports.environment(),
        }

    def _find_links(self) -> list[str]:
        passed = self.settings.passed_environment().get("PIP_FIND_LINKS", "")
        return passed.split()

    def _prepare(self, name: str) -> tuple[pwd.struct_passwd, LearnerPorts]:
        entry = accounts.ensure(name, self.settings.group)
        ports = LearnerPorts.of(entry.pw_uid, self.settings.port_base)
        accounts.copy_workshop(entry, self.settings.notebooks)
        self.guard_all()
        return entry, ports
