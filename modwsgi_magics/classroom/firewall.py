"""Nobody but its owner reaches a learner's ports: nftables rules by socket owner.

All learners share one loopback, and any local user can connect to any port on
it. One nftables table (``inet``: IPv4 and IPv6) closes that, per learner block
(``ports.py``):

* output, ``tcp dport BLOCK meta skuid != {0, UID} reject``: a connection to a
  learner's port from any other user's socket is refused at once. Root stays
  allowed: the hub's proxy (root) talks to the learner's JupyterLab server.
* output, ``tcp sport BLOCK meta skuid != UID drop``: a server that another
  user started on a learner's port first (squatting it) can never answer:
  nobody, its owner included, gets a reply from it.
* input, ``iifname != "lo" tcp dport BLOCK drop``: nothing from outside the
  machine reaches a learner's port directly; the hub's proxy, behind the
  login, is the only way in (``/user/NAME/proxy/PORT/``).

The table is rewritten whole, in one atomic ``nft -f`` transaction, from the
list of every learner each time: ordering and duplicates cannot go wrong.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

from .errors import FirewallError
from .ports import LearnerPorts


def ruleset(table: str, learners: Iterable[LearnerPorts]) -> str:
    """The nft script that makes ``table`` hold exactly the rules for ``learners``."""
    lines = [
        f"table inet {table} {{}}",  # so that the delete below always has a table
        f"delete table inet {table}",
        f"table inet {table} {{",
        "  chain output {",
        "    type filter hook output priority filter; policy accept;",
    ]
    inbound = []
    for learner in learners:
        ports = ", ".join(str(port) for port in learner.all)
        owners = f"{{ 0, {learner.uid} }}"
        lines.append(f"    tcp dport {{ {ports} }} meta skuid != {owners} reject with tcp reset")
        lines.append(f"    tcp sport {{ {ports} }} meta skuid != {learner.uid} drop")
        inbound.append(f'    iifname != "lo" tcp dport {{ {ports} }} drop')
    lines += [
        "  }",
        "  chain input {",
        "    type filter hook input priority filter; policy accept;",
    ]
    lines += [*inbound, "  }", "}"]
    return "\n".join(lines) + "\n"


def apply(table: str, learners: Iterable[LearnerPorts]) -> None:
    """Replace ``table`` by the rules for ``learners``, atomically."""
    _nft(["-f", "-"], ruleset(table, learners))


def remove(table: str) -> None:
    """Delete ``table`` (and so every rule of the classroom); no table is fine."""
    _nft(["-f", "-"], f"table inet {table} {{}}\ndelete table inet {table}\n")


def _nft(args: list[str], script: str) -> None:
    nft = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if nft is None:
        raise FirewallError.missing()
    done = subprocess.run([nft, *args], input=script, capture_output=True, text=True)
    if done.returncode != 0:
        raise FirewallError.from_nft(done.stderr)
