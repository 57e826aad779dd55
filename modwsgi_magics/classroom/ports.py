"""Which ports a learner owns: a block derived from their uid.

Every learner of a classroom shares the machine's loopback, so two learners who
both run ``mod_wsgi-express start-server`` would both want port 8000. Each
learner gets a block of ports of their own instead, computed from their uid
(stateless: the same learner always gets the same block, across hub restarts):

* ``lab``: their JupyterLab server, which the hub's proxy talks to;
* ``WORKSHOP_PORT``, ``WORKSHOP_OTHER_PORT``, ``WORKSHOP_HTTPS_PORT``: the
  workshop's servers (8000, 8080 and 8443 on a machine of one's own), which the
  notebooks read from the environment.

The blocks sit below Linux's ephemeral range (32768 and up), so that no
outgoing connection ever holds one, and the firewall (``firewall.py``) lets
only their owner use them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The environment variables the notebooks read, in the order of the block.
WORKSHOP_VARIABLES = ("WORKSHOP_PORT", "WORKSHOP_OTHER_PORT", "WORKSHOP_HTTPS_PORT")
#: Ports in one learner's block: their JupyterLab server, then the workshop's.
BLOCK = 1 + len(WORKSHOP_VARIABLES)
#: The first uid useradd hands out (Debian's UID_MIN).
FIRST_UID = 1000
#: The first port of Linux's default ephemeral range: blocks stay below it.
EPHEMERAL = 32768


@dataclass(frozen=True)
class LearnerPorts:
    """A learner's ports: ``LearnerPorts.of(uid, base=20000)``."""

    uid: int
    lab: int
    workshop: tuple[int, ...]

    @classmethod
    def of(cls, uid: int, base: int) -> LearnerPorts:
        """The block of ``uid``; ``ValueError`` when it would not fit below 32768.

        >>> LearnerPorts.of(1002, base=20000)
        LearnerPorts(uid=1002, lab=20008, workshop=(20009, 20010, 20011))
        """
        first = base + BLOCK * (uid - FIRST_UID)
        if uid < FIRST_UID or first + BLOCK > EPHEMERAL:
            highest = FIRST_UID + (EPHEMERAL - base) // BLOCK - 1
            raise ValueError(
                f"uid {uid} has no port block: with a base of {base}, learners' uids must lie "
                f"between {FIRST_UID} and {highest}"
            )
        return cls(uid, first, tuple(range(first + 1, first + BLOCK)))

    @property
    def all(self) -> tuple[int, ...]:
        return (self.lab, *self.workshop)

    def environment(self) -> dict[str, str]:
        """``WORKSHOP_PORT=...`` and the others, for the learner's server."""
        pairs = zip(WORKSHOP_VARIABLES, self.workshop, strict=True)
        return {name: str(port) for name, port in pairs}
