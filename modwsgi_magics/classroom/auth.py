"""Signing in: any name, the workshop password, and the learner's own password.

The first sign-in under a name takes it (``claims.py``): workshop password,
plus a password the learner chooses there and then. Every later sign-in under
that name needs both again. A name that belongs to one of the machine's own
accounts (``root``, ``www-data``, the instructor) is refused: only accounts the
classroom created (``accounts.py``) are learners'.
"""

from __future__ import annotations

import asyncio
import hmac
import pwd
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Integer, Unicode

from .accounts import NAME, is_learner
from .claims import Claims


class ClassroomAuthenticator(Authenticator):
    """The workshop password lets a learner in; their own password keeps their name theirs."""

    workshop_password = Unicode(
        "", config=True, help="The password the instructor gives the class (CLASSROOM_PASSWORD)."
    )
    claims_file = Unicode("", config=True, help="Where the learners' own passwords are kept.")
    learner_group = Unicode(
        "classroom-learners", config=True, help="The group of the accounts the classroom made."
    )
    own_password_min_length = Integer(
        6, config=True, help="The shortest own password a learner may choose."
    )

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> str | None:
        name = self.normalize_username(str(data.get("username", "")))
        workshop = str(data.get("password", ""))
        own = str(data.get("otp", ""))
        if not self.workshop_password or not NAME.fullmatch(name):
            return None
        if not hmac.compare_digest(workshop.encode(), self.workshop_password.encode()):
            self.log.warning("classroom: %s gave a wrong workshop password", name)
            return None
        if len(own) < self.own_password_min_length:
            self.log.warning("classroom: %s gave no own password, or a too short one", name)
            return None
        if _machine_account(name, self.learner_group):
            self.log.warning("classroom: %s is one of the machine's own accounts", name)
            return None
        claims = Claims(Path(self.claims_file))
        if not await asyncio.to_thread(claims.claim_or_check, name, own):
            self.log.warning("classroom: %s is taken, and the own password differs", name)
            return None
        return name


def _machine_account(name: str, group: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return not is_learner(name, group)
