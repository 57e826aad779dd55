"""The mod_wsgi-express workshop, run as a learner would run it (issue #3).

Every notebook of ``notebooks/`` runs in order through nbclient, each with a
fresh kernel, against the machine's real Apache and a mod_wsgi that chapter 3
builds with ``pip install mod_wsgi``. Apache refuses to serve as root, so when
the tests run as root (CI) the notebooks run as the unprivileged user
``learner``, from a copy of the notebooks in a temporary folder that user owns
(the repository may sit under a 0700 /root), with a fresh ``HOME`` and a clean
environment: ``python3`` in the terminals is the system's, as for a learner.

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
from nbformat.v4 import new_code_cell, new_notebook

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
#: What the learner keeps of the caller's environment: how pip reaches PyPI. Not
#: http_proxy: curl would send the requests for localhost through it.
PASSED_THROUGH = re.compile(r"PIP_\w+|https_proxy|HTTPS_PROXY|no_proxy|NO_PROXY|SSL_CERT_\w+")

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
    """The user who runs the notebooks (None: the current one) and their Python."""

    user: str | None
    python: str

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


def check_prerequisites() -> None:
    """Fail, never skip, when the machine cannot run the workshop."""
    if shutil.which("apxs", path=LEARNER_PATH) is None:
        pytest.fail(
            f"apxs was not found in {LEARNER_PATH}: `pip install mod_wsgi` needs Apache's "
            "development files. Install them (Debian/Ubuntu: apt-get install apache2 "
            "apache2-dev; Fedora/RHEL: dnf install httpd httpd-devel) and run the tests again."
        )
    server = apache_program()
    if not os.access(server, os.X_OK):
        pytest.fail(
            f"Apache's server program {server} (from apxs) is missing: install Apache "
            "(Debian/Ubuntu: apt-get install apache2; Fedora/RHEL: dnf install httpd)"
        )
    for tool in ("curl", "ps", "tree", "openssl"):
        if shutil.which(tool, path=LEARNER_PATH) is None:
            pytest.fail(f"{tool} is not installed in {LEARNER_PATH}; the workshop uses it")
    busy = [port for port in PORTS if _port_in_use(port)]
    if busy:
        pytest.fail(
            f"port(s) {busy} already in use: the workshop's servers need them, and a stray "
            "server there would answer in their place. Stop it and run the tests again."
        )


def apache_program() -> str:
    """Where apxs says the server program is, as mod_wsgi-express finds it."""

    def query(name: str) -> str:
        apxs = shutil.which("apxs", path=LEARNER_PATH)
        return subprocess.run([apxs, "-q", name], capture_output=True, text=True).stdout.strip()

    return os.path.join(query("SBINDIR"), query("PROGNAME"))


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def learner() -> Learner:
    check_prerequisites()
    user = LEARNER if os.geteuid() == 0 else None
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.fail(
                f"running as root, the workshop runs as the unprivileged user {user!r} (Apache "
                f"refuses to serve as root); create it: useradd --create-home "
                f"--shell /bin/bash {user}"
            )
    found = Learner(user, learner_python())
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


def remove(run: WorkshopRun) -> None:
    run.leftovers += reap(run)
    shutil.rmtree(run.root, ignore_errors=True)


@pytest.fixture(scope="module")
def workshop(learner: Learner):
    """The whole workshop, every chapter in order, in one HOME, run once for this module."""
    run = new_run(learner)
    try:
        yield execute(learner, run, CHAPTERS)
    finally:
        remove(run)


# -- the notebooks as files -------------------------------------------------


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def code_cells(name: str) -> list[str]:
    return [cell.source for cell in read(name).cells if cell.cell_type == "code"]


def test_when_notebooks_are_listed_then_sixteen_chapters_are_there_in_order():
    assert len(CHAPTERS) == 16
    assert [name[:2] for name in CHAPTERS] == [f"{n:02d}" for n in range(1, 17)]
    assert CHAPTERS[-1] == "16-summary.ipynb"


@pytest.mark.parametrize("name", CHAPTERS)
def test_when_a_notebook_is_read_then_it_is_committed_without_outputs(name):
    notebook = read(name)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


@pytest.mark.parametrize("name", CHAPTERS)
def test_when_a_notebook_is_read_then_its_first_code_cell_loads_the_extension(name):
    assert code_cells(name)[0].strip() == "%load_ext modwsgi_magics"


@pytest.mark.parametrize("name", CHAPTERS[3:])
def test_when_a_later_chapter_is_read_then_a_catch_up_cell_follows_the_extension(name):
    catch_up = code_cells(name)[1]
    assert catch_up.startswith("%%execute_all")
    assert "source $HOME/venv/bin/activate" in catch_up
    assert "PORT=${WORKSHOP_PORT:-8000}" in catch_up
    assert "OTHER_PORT=${WORKSHOP_OTHER_PORT:-8080}" in catch_up
    assert "|| pip3 install mod_wsgi" in catch_up


def sleeps_outside_loops(source: str) -> list[str]:
    """Lines of a cell that wait with ``sleep`` outside a polling loop (``do ... done``)."""
    depth, found = 0, []
    for line in source.splitlines():
        for word in re.findall(r"\b(do|done|sleep)\b", line):
            if word == "do":
                depth += 1
            elif word == "done":
                depth = max(0, depth - 1)
            elif depth == 0:
                found.append(line)
    return found


@pytest.mark.parametrize("name", CHAPTERS)
def test_when_a_notebook_is_read_then_no_cell_waits_with_a_bare_sleep(name):
    """Servers are waited for with --bg; a sleep only paces a loop bounded by --timeout."""
    for source in code_cells(name):
        assert sleeps_outside_loops(source) == [], source
        if re.search(r"\bsleep\b", source):
            assert "--timeout" in source.splitlines()[0], source


def test_when_a_cell_sleeps_then_only_a_sleep_inside_a_loop_is_allowed():
    assert sleeps_outside_loops("until curl -s x | grep y; do sleep 0.5; done") == []
    assert sleeps_outside_loops("mod_wsgi-express start-server &\nsleep 2") == ["sleep 2"]
    assert sleeps_outside_loops("for i in 1 2; do\n  curl x\ndone\nsleep 1") == ["sleep 1"]


def test_when_apxs_is_missing_then_the_check_fails_and_says_to_install_apache2_dev(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, **kw: None if name == "apxs" else real_which(name, **kw)
    )
    with pytest.raises(pytest.fail.Exception, match="apache2-dev"):
        check_prerequisites()


def test_when_the_machine_is_checked_then_it_can_build_and_serve_mod_wsgi():
    check_prerequisites()  # fails, never skips: CI must have Apache's apxs


def test_when_exercises_are_listed_then_hello_world_is_a_real_file():
    source = (NOTEBOOKS / "exercises" / "hello-world" / "wsgi.py").read_text()
    assert "def application(environ, start_response)" in source
    assert "Hello World!" in source


# -- the workshop, run --------------------------------------------------------


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
def test_when_the_workshop_runs_as_a_learner_then_every_notebook_passes(workshop):
    print(f"\nworkshop run time:\n{workshop.timings()}")
    assert [r["notebook"] for r in workshop.results] == CHAPTERS, workshop.log[-3000:]
    assert all(r["passed"] for r in workshop.results), workshop.failures()


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
@pytest.mark.parametrize(
    ("notebook", "pattern"),
    [
        ("01-overview.ipynb", r"GREETING=''"),
        ("03-pip-install.ipynb", r"Successfully installed .*mod_wsgi"),
        ("03-pip-install.ipynb", r"venv/bin/mod_wsgi-express"),
        ("04-hello-world.ipynb", r"^Hello World!$"),
        ("04-hello-world.ipynb", r"\(wsgi:localhost:\d+:\d+\)"),
        ("04-hello-world.ipynb", r"Locale Setting +: C\.UTF-8"),
        ("05-apache-configuration.ipynb", r"^\d+:LoadModule wsgi_module '.*/venv/"),
        ("05-apache-configuration.ipynb", r"^Listen 127\.0\.0\.1:\d+$"),
        ("06-wsgi-application.ipynb", r"Hello from the '__wsgi__' module!"),
        ("06-wsgi-application.ipynb", r"Hello from the 'hello' module!"),
        ("06-wsgi-application.ipynb", r"Greetings, entry-point, from greet\(\)!"),
        ("07-server-root-and-logs.ipynb", r"handling GET /in-the-terminal"),
        ("07-server-root-and-logs.ipynb", r"\[wsgi:warn\].*a warning about /second"),
        ("08-errors-and-debugging.ipynb", r"HTTP/1.1 500 Internal Server Error"),
        ("08-errors-and-debugging.ipynb", r"Traceback \(most recent call last\)"),
        ("08-errors-and-debugging.ipynb", r"module '__wsgi__' has no attribute 'app'"),
        ("08-errors-and-debugging.ipynb", r"Address already in use"),
        ("09-development-loop.ipynb", r"^Hello from the second version of greeting\.py$"),
        ("10-capacity-and-status.ipynb", r"multiprocess=True"),
        ("10-capacity-and-status.ipynb", r"BusyWorkers: \d+"),
        ("10-capacity-and-status.ipynb", r"HTTP/1.1 502 Bad Gateway"),
        ("11-static-files.ipynb", r"(?i)^Content-Type: text/css"),
        ("11-static-files.ipynb", r"(?i)^Content-Type: application/json"),
        ("12-flask.ipynb", r"^Hello from Flask!$"),
        ("12-flask.ipynb", r"Exception on /share/0 \[GET\]"),
        ("13-https.ipynb", r"^Hello World!$"),
        ("13-https.ipynb", r"(?i)^Location: https://localhost:\d+/some/page"),
        ("14-running-as-a-service.ipynb", r"^Good evening from the service!$"),
        ("15-own-apache.ipynb", r'^LoadModule wsgi_module ".*/venv/.*mod_wsgi.*\.so"$'),
        ("15-own-apache.ipynb", r'^WSGIPythonHome ".*/venv"$'),
        ("15-own-apache.ipynb", r"^Hello World!$"),
    ],
)
def test_when_the_workshop_runs_then_the_key_outputs_are_shown(workshop, notebook, pattern):
    outputs = workshop.outputs(notebook)
    assert re.search(pattern, outputs, re.MULTILINE), f"{pattern!r} not in {notebook}"


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
def test_when_the_workshop_ends_then_none_of_its_processes_is_left(workshop):
    assert workshop.results, workshop.log[-3000:]
    assert workshop.leftovers == []
    assert not any(_port_in_use(port) for port in PORTS)


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
def test_when_a_notebook_fails_while_apache_runs_then_its_kernel_leaves_no_process(
    learner, workshop
):
    """A failing cell ends the notebook with a server still running in terminal 1."""
    run = new_run(learner, home=workshop.home)
    try:
        cells = [
            "%load_ext modwsgi_magics",
            code_cells(CHAPTERS[3])[1],  # chapter 4's catch-up
            f"%%execute1 --bg --wait-url http://localhost:{PORTS[0]}/\n"
            "cd exercises/hello-world\nmod_wsgi-express start-server wsgi.py --port $PORT",
            "%%execute2\nfalse",
        ]
        notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
        nbformat.write(notebook, run.notebooks / "fails.ipynb")
        learner.own(run.notebooks / "fails.ipynb")
        execute(learner, run, ["fails.ipynb"])
        assert [r["passed"] for r in run.results] == [False], run.log[-3000:]
        assert "CommandFailed" in run.results[0]["error"]
        assert "Server URL" in run.outputs("fails.ipynb")
        assert run.leftovers == []
        assert not _port_in_use(PORTS[0])
    finally:
        remove(run)


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
def test_when_chapter_four_runs_alone_from_an_empty_home_then_it_passes(learner):
    """The catch-up cell alone brings a fresh HOME to where chapter 3 leaves it."""
    run = new_run(learner)
    try:
        execute(learner, run, ["04-hello-world.ipynb"])
        assert [r["passed"] for r in run.results] == [True], run.failures() or run.log[-3000:]
        assert re.search(r"^Hello World!$", run.outputs("04-hello-world.ipynb"), re.MULTILINE)
        assert (run.home / "venv" / "bin" / "mod_wsgi-express").exists()
        assert run.leftovers == []
    finally:
        remove(run)


@pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT)
def test_when_later_chapters_run_backwards_from_an_empty_home_then_each_passes(learner):
    """No chapter leans on what the chapters before it left, beyond its catch-up cell.

    Backwards, each chapter finds only what later chapters left; the first of
    them, the summary, starts from an empty HOME.
    """
    run = new_run(learner)
    try:
        backwards = CHAPTERS[:2:-1]
        execute(learner, run, backwards)
        assert [r["notebook"] for r in run.results] == backwards, run.log[-3000:]
        assert all(r["passed"] for r in run.results), run.failures()
        assert run.leftovers == []
    finally:
        remove(run)
