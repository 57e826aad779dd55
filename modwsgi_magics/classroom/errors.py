"""What the classroom refuses or fails at: short messages, no tracebacks needed."""

from __future__ import annotations

from pathlib import Path


class SettingsError(ValueError):
    """A ``CLASSROOM_*`` variable that makes no sense."""


class AccountError(RuntimeError):
    """A name that cannot be a learner's account."""

    @classmethod
    def taken(cls, name: str, group: str) -> AccountError:
        return cls(f"{name!r} is an account of this machine, not a learner (not in {group!r})")

    @classmethod
    def invalid(cls, name: str) -> AccountError:
        return cls(f"{name!r} is not a valid learner name (lower-case letters, digits, _ and -)")


class FirewallError(RuntimeError):
    """nft is missing or refused the rules."""

    @classmethod
    def from_nft(cls, stderr: str) -> FirewallError:
        return cls(f"nft refused the classroom's rules: {stderr.strip()[-500:]}")

    @classmethod
    def missing(cls) -> FirewallError:
        return cls(
            "nft was not found: the classroom keeps learners off each other's ports with "
            "nftables (apt-get install nftables)"
        )


class HubError(RuntimeError):
    """The hub did not start, or did not stop."""

    @classmethod
    def did_not_answer(cls, url: str, seconds: float, log: Path) -> HubError:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        return cls(f"the hub did not answer at {url} within {seconds:.0f} s:\n{tail}")
