"""Start and stop a classroom's hub; build the wheel of mod_wsgi the class shares.

``scripts/classroom.sh`` runs :func:`start` in the foreground; the tests and
``classroom.sh --background`` run it in the background with a pid file, and
:func:`stop` ends the hub, every learner's server with it, and then whatever
any learner still runs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import psutil

from . import accounts, firewall
from .errors import HubError
from .servers import LEARNER_PATH, LearnerServers
from .settings import Settings

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
#: How long the hub gets to answer after it starts, and to stop.
START_DEADLINE = 60.0
STOP_DEADLINE = 30.0


def with_password(settings: Settings) -> Settings:
    """``settings``, with a generated workshop password if none was given."""
    if settings.password:
        return settings
    return replace(settings, password=secrets.token_urlsafe(9))


def prepare(settings: Settings) -> None:
    """The hub's private state folder, and the firewall rules for existing learners."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state_dir, 0o700)
    LearnerServers(settings).guard_all()


def build_wheel(settings: Settings) -> Path | None:
    """Build mod_wsgi's wheel once, for every learner's ``pip install mod_wsgi``.

    Built with the learners' own ``python3`` (the system's), against the
    machine's Apache, into ``CLASSROOM_WHEELHOUSE`` (world-readable). Compiling
    takes 15-30 s of CPU: once, instead of once a learner.
    """
    wheelhouse = settings.wheelhouse
    found = sorted(wheelhouse.glob("mod_wsgi-*.whl"))
    if found:
        return found[-1]
    python = shutil.which("python3", path=LEARNER_PATH)
    if python is None:
        return None
    wheelhouse.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="classroom-wheel-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "-q"]
        # as chapter 3 does: the pip a venv starts with may be too old to build it
        subprocess.run([*pip, "install", "-U", "pip"], check=True)
        subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheelhouse), "mod_wsgi"], check=True)
    for path in [wheelhouse, *wheelhouse.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    found = sorted(wheelhouse.glob("mod_wsgi-*.whl"))
    return found[-1] if found else None


def hub_command(settings: Settings) -> list[str]:
    return [str(settings.venv_bin / "jupyterhub"), "-f", str(CONFIG)]


def hub_environment(settings: Settings) -> dict[str, str]:
    """The hub's environment: ours, with the (maybe generated) password."""
    return {**os.environ, "CLASSROOM_PASSWORD": settings.password}


def start_background(settings: Settings, pid_file: Path, log: Path) -> int:
    """Start the hub, wait until it answers, write its pid; return the pid."""
    prepare(settings)
    with open(log, "ab") as out:
        hub = subprocess.Popen(
            hub_command(settings),
            env=hub_environment(settings),
            cwd=settings.state_dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(f"{hub.pid}\n")
    url = f"http://127.0.0.1:{settings.port}/hub/api/"
    deadline = time.monotonic() + START_DEADLINE
    while not _answers(url):
        if hub.poll() is not None or time.monotonic() > deadline:
            stop(settings, pid_file)
            raise HubError.did_not_answer(url, START_DEADLINE, log)
        time.sleep(0.2)
    return hub.pid


def run_foreground(settings: Settings) -> int:
    """Run the hub until it ends (Ctrl-C); then clean up as :func:`stop` does."""
    prepare(settings)
    hub = subprocess.Popen(
        hub_command(settings), env=hub_environment(settings), cwd=settings.state_dir
    )
    try:
        return hub.wait()
    except KeyboardInterrupt:
        hub.send_signal(signal.SIGINT)
        return hub.wait()
    finally:
        _end_learners(settings)


def stop(settings: Settings, pid_file: Path) -> list[str]:
    """Stop the hub of ``pid_file`` (it stops every learner's server first), then
    end whatever a learner still runs; return what had to be killed."""
    killed: list[str] = []
    try:
        pid = int(pid_file.read_text().split()[0])
        hub = psutil.Process(pid)
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        hub = None
    if hub is not None:
        family = [hub, *hub.children(recursive=True)]
        hub.terminate()
        _, alive = psutil.wait_procs([hub], timeout=STOP_DEADLINE)
        for proc in [*alive, *family]:
            try:
                proc.kill()
                killed.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(family, timeout=5)
    pid_file.unlink(missing_ok=True)
    return killed + _end_learners(settings)


def _end_learners(settings: Settings) -> list[str]:
    killed = []
    for entry in accounts.learners(settings.group):
        killed += accounts.end_processes(entry.pw_uid)
    firewall.remove(settings.nft_table)
    return killed


def addresses(settings: Settings) -> list[str]:
    """Where learners point their browsers."""
    if settings.ip and settings.ip not in ("0.0.0.0", "::"):
        hosts = [settings.ip]
    else:
        hosts = [
            address.address
            for name, found in psutil.net_if_addrs().items()
            for address in found
            if name != "lo" and address.family.name == "AF_INET"
        ] or ["127.0.0.1"]
    return [f"http://{host}:{settings.port}/" for host in hosts]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def announce(settings: Settings) -> str:
    """What the instructor tells the class."""
    lines = [
        "The classroom is open at:",
        *(f"    {url}" for url in addresses(settings)),
        "Learners sign in with a name of their choosing, the workshop password",
        f"    {settings.password}",
        "and, the first time, a password of their own (6 characters or more) that keeps",
        "the name theirs. Each gets an account of this machine, a copy of the workshop,",
        "and JupyterLab on its first chapter.",
    ]
    return "\n".join(lines)
