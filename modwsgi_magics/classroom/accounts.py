"""Learners' Linux accounts: created on first use, each with a 0700 home.

A learner's hub name is their Linux user name. Every account the classroom
creates is put in one group (``classroom-learners`` by default): that group is
how the classroom tells its learners from the machine's other accounts, so a
learner can never take over ``root``, ``www-data`` or anybody else who was
there before; it grants nothing. Names are what ``useradd`` accepts without
complaint, in lower case.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import psutil

from .errors import AccountError

#: What a learner may call themselves (a safe subset of useradd's rules).
NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: The folder of a learner's home that holds their copy of the workshop.
WORKSHOP_FOLDER = "workshop"
#: The folder of a learner's home that holds their temporary files ($TMPDIR).
TMP_FOLDER = "tmp"


def is_learner(name: str, group: str) -> bool:
    """Whether ``name`` is an account the classroom created."""
    try:
        return name in grp.getgrnam(group).gr_mem
    except KeyError:
        return False


def learners(group: str) -> list[pwd.struct_passwd]:
    """Every learner account of the classroom."""
    try:
        members = grp.getgrnam(group).gr_mem
    except KeyError:
        return []
    found = []
    for name in members:
        try:
            found.append(pwd.getpwnam(name))
        except KeyError:
            continue
    return found


def ensure(name: str, group: str) -> pwd.struct_passwd:
    """The learner's account, created with a private home if it does not exist yet."""
    if not NAME.fullmatch(name):
        raise AccountError.invalid(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if entry is not None and not is_learner(name, group):
        raise AccountError.taken(name, group)
    if entry is None:
        _run(["groupadd", "-f", group])
        _run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name])
        entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    os.chmod(home, 0o700)
    tmp = home / TMP_FOLDER
    tmp.mkdir(mode=0o700, exist_ok=True)
    os.chown(tmp, entry.pw_uid, entry.pw_gid)
    return entry


def copy_workshop(entry: pwd.struct_passwd, notebooks: Path) -> Path:
    """The learner's own copy of the workshop, in ``~/workshop``: made on their
    first start, never overwritten (their edits and outputs stay theirs)."""
    target = Path(entry.pw_dir) / WORKSHOP_FOLDER
    if target.exists():
        return target
    partial = target.with_name(f".{WORKSHOP_FOLDER}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(
        notebooks, partial, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    for folder, _, files in os.walk(partial):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)
    partial.rename(target)
    return target


def end_processes(uid: int, deadline: float = 10.0) -> list[str]:
    """Kill every process of ``uid``; return what had to be killed.

    The hub runs this after a learner's server stopped: the kernels' watchdogs
    have ended their terminals' processes by then, but a server started from a
    JupyterLab terminal (or ``nohup``, ``setsid``, ``disown``) may remain.
    """
    killed: list[str] = []
    stop_at = time.monotonic() + deadline
    while time.monotonic() < stop_at:
        found = psutil.process_iter(["uids", "cmdline", "status"])
        left = [proc for proc in found if _owned(proc, uid)]
        if not left:
            break
        for proc in left:
            try:
                proc.kill()
                killed.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])[:120]}")
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(left, timeout=1)
    return killed


def remove(name: str, group: str) -> None:
    """Delete a learner's account and home (``userdel -r``); others are left alone."""
    if not is_learner(name, group):
        raise AccountError.taken(name, group)
    entry = pwd.getpwnam(name)
    end_processes(entry.pw_uid)
    _run(["userdel", "--remove", name], ok=(0, 12))  # 12: the home could not be removed
    shutil.rmtree(entry.pw_dir, ignore_errors=True)


def _owned(proc: psutil.Process, uid: int) -> bool:
    uids = proc.info["uids"]
    if uids is None or proc.info["status"] == psutil.STATUS_ZOMBIE:
        return False
    return uid in (uids.real, uids.effective)


def _run(argv: list[str], ok: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode not in ok:
        raise AccountError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
