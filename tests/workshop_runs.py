"""The workshop tier's machinery: who the learner is, one run of some notebooks.

``test_workshop.py`` runs the notebooks of ``notebooks/`` through nbclient,
each with a fresh kernel, against the machine's real Apache and a mod_wsgi that
chapter 3 builds with ``pip install mod_wsgi``. Apache refuses to serve as
root, so when the tests run as root (CI) the notebooks run as the unprivileged
user ``learner``, from a copy of the notebooks in a temporary folder that user
owns (the repository may sit under a 0700 /root), with a fresh ``HOME`` and a
clean environment: ``python3`` in the terminals is the system's, as for a
learner. The runs of one test session share pip's cache, so that mod_wsgi is
compiled once.

Every process of a run carries a marker in its environment, so that after the
run the test can prove that the kernels' watchdogs left nothing behind, and
kill (and report) whatever they did leave.
"""

from __future__ import annotations

import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CHAPTERS = sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))

LEARNER = "learner"
#: The learner's PATH: system tools only, nothing of root's or of the test's venv.
LEARNER_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Environment variable whose value marks every process of one run.
MARKER = "MODWSGI_WORKSHOP_RUN"
#: The environment variables that give the workshop its ports (defaults 8000, 8080, 8443).
PORT_VARIABLES = ("WORKSHOP_PORT", "WORKSHOP_OTHER_PORT", "WORKSHOP_HTTPS_PORT")
#: Bound on a whole run of `modwsgi-magics run` (each cell has its own bound).
RUN_TIMEOUT = 3000
#: Seconds one cell may take: `pip install mod_wsgi` compiles C code.
CELL_TIMEOUT = 600
#: How long the watchdogs get to take a finished run's processes down.
REAP_DEADLINE = 30.0
#: Seconds allowed for the tests that run the workshop (pip compiles mod_wsgi).
WORKSHOP_TEST_TIMEOUT = RUN_TIMEOUT + 300
#: Set to 1 to make a machine that cannot run the workshop fail its tier rather
#: than skip it: scripts/test.sh sets it, so that CI can never skip it silently.
REQUIRE_WORKSHOP = "MODWSGI_MAGICS_REQUIRE_WORKSHOP"
#: Why the workshop tier is skipped on a machine without Apache's development files.
NO_APXS = (
    "the workshop tier needs Apache's apxs (apt-get install apache2-dev); "
    "scripts/test.sh installs it"
)
#: What the learner keeps of the caller's environment: how pip reaches PyPI. Not
#: http_proxy: curl would send the requests for localhost through it.
PASSED_THROUGH = re.compile(r"PIP_\w+|https_proxy|HTTPS_PROXY|no_proxy|NO_PROXY|SSL_CERT_\w+")

#: What pip says as it compiles mod_wsgi.
BUILDS_MOD_WSGI = "Building wheel for mod_wsgi"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _port_free(port: int) -> bool:
    """Nothing listens on ``port`` and it can be bound on every interface (IPv4 and IPv6)."""
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        with socket.socket(family) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def pick_ports(count: int) -> tuple[int, ...]:
    """``count`` free ports for this session's runs, never the workshop's defaults.

    Another run of the workshop on this machine (a developer's, another
    branch's) uses 8000, 8080 and 8443 or ports of its own; the notebooks read
    theirs from ``PORT_VARIABLES``.
    """
    rng = random.Random()
    chosen: list[int] = []
    while len(chosen) < count:
        port = rng.randrange(20000, 30000)
        if port not in chosen and _port_free(port):
            chosen.append(port)
    return tuple(chosen)


#: The ports this session's runs give the workshop: its PORT, OTHER_PORT, HTTPS_PORT.
PORTS = pick_ports(len(PORT_VARIABLES))


# -- who runs the workshop --------------------------------------------------


@dataclass(frozen=True)
class Learner:
    """The user who runs the notebooks (None: the current one), their Python, and
    pip's cache, which the runs of one test session share: chapter 3 compiles
    mod_wsgi, and the runs after it install the wheel pip keeps there."""

    user: str | None
    python: str
    pip_cache: Path

    def command(self, env: dict[str, str], argv: list[str]) -> list[str]:
        """``argv`` run as this learner with exactly ``env`` as environment."""
        switch = ["runuser", "-u", self.user, "--"] if self.user else []
        return [*switch, "env", "-i", *(f"{key}={value}" for key, value in env.items()), *argv]

    def environment(self, home: Path, tmpdir: Path, marker: str) -> dict[str, str]:
        name = self.user or pwd.getpwuid(os.getuid()).pw_name
        kept = {key: value for key, value in os.environ.items() if PASSED_THROUGH.fullmatch(key)}
        return {
            **kept,
            "HOME": str(home),
            "PATH": LEARNER_PATH,
            "LANG": "C.UTF-8",
            "USER": name,
            "LOGNAME": name,
            "SHELL": "/bin/bash",
            # mod_wsgi-express puts its server roots in $TMPDIR: keep them in the run's folder.
            "TMPDIR": str(tmpdir),
            "PIP_CACHE_DIR": str(self.pip_cache),
            **{name: str(port) for name, port in zip(PORT_VARIABLES, PORTS, strict=True)},
            MARKER: marker,
        }

    def own(self, path: Path) -> None:
        """Hand ``path`` and everything below it to the learner."""
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        for folder, _, files in os.walk(path):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def learner_python() -> str:
    """The Python with modwsgi_magics and nbclient that the learner can run.

    CI installs the package into a world-readable venv named by
    ``MODWSGI_MAGICS_VENV``; otherwise it is the Python running the tests.
    """
    venv = os.environ.get("MODWSGI_MAGICS_VENV")
    return str(Path(venv) / "bin" / "python") if venv else sys.executable


def skips_the_tier(path: str = LEARNER_PATH) -> bool:
    """Whether this machine skips the workshop tier: no apxs, and not required."""
    return shutil.which("apxs", path=path) is None and os.environ.get(REQUIRE_WORKSHOP) != "1"


def check_prerequisites(path: str = LEARNER_PATH) -> None:
    """Skip the tier on a machine without apxs (fail under ``REQUIRE_WORKSHOP``);
    fail when anything else the workshop needs is missing.

    ``path`` is where the learner's commands are looked for.
    """
    if shutil.which("apxs", path=path) is None:
        if os.environ.get(REQUIRE_WORKSHOP) != "1":
            pytest.skip(NO_APXS)
        pytest.fail(
            f"apxs was not found in {path}, and {REQUIRE_WORKSHOP}=1 forbids skipping the "
            "workshop tier: `pip install mod_wsgi` needs Apache's development files. Install "
            "them (Debian/Ubuntu: apt-get install apache2 apache2-dev; Fedora/RHEL: dnf install "
            "httpd httpd-devel) and run the tests again."
        )
    server = apache_program(path)
    if not os.access(server, os.X_OK):
        pytest.fail(
            f"Apache's server program {server} (from apxs) is missing: install Apache "
            "(Debian/Ubuntu: apt-get install apache2; Fedora/RHEL: dnf install httpd)"
        )
    for tool in ("curl", "ps", "tree", "openssl"):
        if shutil.which(tool, path=path) is None:
            pytest.fail(f"{tool} is not installed in {path}; the workshop uses it")
    busy = [port for port in PORTS if port_in_use(port)]
    if busy:
        pytest.fail(
            f"port(s) {busy} already in use: the workshop's servers need them, and a stray "
            "server there would answer in their place. Stop it and run the tests again."
        )


def apache_program(path: str = LEARNER_PATH) -> str:
    """Where apxs says the server program is, as mod_wsgi-express finds it."""

    def query(name: str) -> str:
        apxs = shutil.which("apxs", path=path)
        return subprocess.run([apxs, "-q", name], capture_output=True, text=True).stdout.strip()

    return os.path.join(query("SBINDIR"), query("PROGNAME"))


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def check_learner(found: Learner) -> Learner:
    """``found``, once it is sure that the learner can run its Python and the package."""
    probe = subprocess.run(
        found.command(
            {"PATH": LEARNER_PATH, "HOME": "/"},
            [found.python, "-c", "import modwsgi_magics, nbclient, ipykernel"],
        ),
        capture_output=True,
        text=True,
        cwd="/",
    )
    if probe.returncode != 0:
        pytest.fail(
            f"{found.user or 'the current user'} cannot run {found.python} with modwsgi_magics: "
            f"{probe.stderr.strip()[-500:]}\nInstall the package into a venv everyone can read "
            "and name it in MODWSGI_MAGICS_VENV."
        )
    return found


# -- one run of some notebooks ----------------------------------------------


@dataclass
class WorkshopRun:
    """The folders and results of running some notebooks as the learner."""

    root: Path
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""
    leftovers: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def executed(self) -> Path:
        return self.root / "executed"

    def failures(self) -> str:
        failed = [r for r in self.results if not r["passed"]]
        return "\n\n".join(f"{r['notebook']}:\n{_ANSI.sub('', r['error'] or '')}" for r in failed)

    def outputs(self, notebook: str) -> str:
        """Everything the executed notebook shows in its cells, as plain text."""
        executed = nbformat.read(self.executed / notebook, as_version=4)
        texts = []
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    texts.append(output.text)
                elif output.output_type == "error":
                    texts.append("\n".join(output.traceback))
                else:
                    texts.append(output.get("data", {}).get("text/plain", ""))
        return _ANSI.sub("", "".join(texts))

    def timings(self) -> str:
        rows = [f"  {r['notebook']:<34} {r['seconds']:7.1f} s" for r in self.results]
        return "\n".join([*rows, f"  {'total':<34} {self.seconds:7.1f} s"])


def new_run(learner: Learner, home: Path | None = None) -> WorkshopRun:
    """A folder the learner owns, holding the notebooks and a HOME."""
    # As root, /tmp: $TMPDIR might sit below /root, where the learner cannot go.
    root = Path(tempfile.mkdtemp(prefix="modwsgi-workshop-", dir="/tmp" if learner.user else None))
    run = WorkshopRun(root)
    shutil.copytree(
        NOTEBOOKS,
        run.notebooks,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    for folder in (run.home, root / "tmp", run.executed):
        folder.mkdir()
    learner.own(root)
    if home is not None:  # share a HOME (its venv) with an earlier run
        run.home.rmdir()
        run.home.symlink_to(home)
    return run


def execute(learner: Learner, run: WorkshopRun, notebooks: list[str]) -> WorkshopRun:
    """Run ``notebooks`` (names in ``run.notebooks``) in order; then look for leftovers."""
    env = learner.environment(run.home, run.root / "tmp", run.marker)
    report = run.root / "report.xml"
    argv = [learner.python, "-m", "modwsgi_magics", "run", "--timeout", str(CELL_TIMEOUT)]
    argv += ["--output-dir", str(run.executed), "--junit", str(report), *notebooks]
    started = time.monotonic()
    try:
        done = subprocess.run(
            learner.command(env, argv),
            cwd=run.notebooks,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        run.log = done.stdout + done.stderr
    except subprocess.TimeoutExpired as err:
        run.log = _text(err.stdout) + _text(err.stderr) + "\n(the run timed out)"
    run.seconds = time.monotonic() - started
    run.results = read_junit(report) if report.exists() else []
    run.leftovers = reap(run)
    return run


def read_junit(report: Path) -> list[dict]:
    """One ``{notebook, passed, seconds, error}`` per test case of the run's JUnit report."""
    results = []
    for case in ET.parse(report).iter("testcase"):
        failure = case.find("failure")
        error = None if failure is None else f"{failure.get('message')}\n{failure.text or ''}"
        results.append(
            {
                "notebook": case.get("name"),
                "passed": failure is None,
                "seconds": float(case.get("time")),
                "error": error,
            }
        )
    return results


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def processes_of(run: WorkshopRun) -> list[psutil.Process]:
    """Living processes started by the run: they carry its marker, or name its folder."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            marked = proc.environ().get(MARKER) == run.marker
        except psutil.Error:
            marked = False
        if marked or str(run.root) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def reap(run: WorkshopRun) -> list[str]:
    """Wait for the watchdogs to end the run's processes; kill and name any that stay."""
    deadline = time.monotonic() + REAP_DEADLINE
    while (left := processes_of(run)) and time.monotonic() < deadline:
        psutil.wait_procs(left, timeout=0.5)
    described = []
    for proc in left:
        try:
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:200]}")
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(left, timeout=5)
    return described


def cached_wheels(learner: Learner) -> list[Path]:
    """The wheels of mod_wsgi that pip built and keeps in the session's cache."""
    return list(learner.pip_cache.rglob("mod_wsgi-*.whl"))


def remove(run: WorkshopRun) -> None:
    run.leftovers += reap(run)
    shutil.rmtree(run.root, ignore_errors=True)


# -- the notebooks as files -------------------------------------------------


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def code_cells(name: str) -> list[str]:
    return [cell.source for cell in read(name).cells if cell.cell_type == "code"]
