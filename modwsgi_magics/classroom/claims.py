"""Who has taken which name: each learner's own password, hashed, in one file.

The workshop password lets anyone in the room sign in; on its own it would let
anyone sign in *as anyone* (JupyterHub's shared-password authenticator warns of
exactly this), and then read their home. So the first sign-in under a name
also sets that learner's own password, and every later sign-in needs it: a
name, once taken, is its learner's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

#: scrypt's cost: about 30 ms a sign-in here, and 16 MB.
_COST = {"n": 2**14, "r": 8, "p": 1}
#: The hub checks sign-ins on worker threads: one read-check-write at a time, so
#: that two learners signing in at once cannot both take a name, or lose one.
_LOCK = threading.Lock()


class Claims:
    """The names taken so far, kept in ``path`` (JSON, 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Claims({self.path!r})"

    def claim_or_check(self, name: str, password: str) -> bool:
        """Take ``name`` for whoever gives ``password``, if nobody has yet; else
        whether ``password`` is the one it was taken with."""
        with _LOCK:
            return self._claim_or_check(name, password)

    def _claim_or_check(self, name: str, password: str) -> bool:
        taken = self._read()
        if name in taken:
            salt, digest = (bytes.fromhex(part) for part in taken[name].split("$"))
            return hmac.compare_digest(_hash(password, salt), digest)
        salt = secrets.token_bytes(16)
        taken[name] = f"{salt.hex()}${_hash(password, salt).hex()}"
        self._write(taken)
        return True

    def release(self, name: str) -> None:
        """Forget ``name`` (its account was removed): the next to sign in takes it."""
        with _LOCK:
            taken = self._read()
            if taken.pop(name, None) is not None:
                self._write(taken)

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return {}

    def _write(self, taken: dict[str, str]) -> None:
        partial = self.path.with_suffix(".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(taken, out)
        partial.replace(self.path)


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **_COST)
