"""A classroom on one server (issue #11), end to end, as root.

A hub of its own is started as ``scripts/classroom.sh`` starts it; three
learners sign in through its login form and run chapters 3 and 4 of the
workshop at the same time, each in their own kernels, through the hub's proxy
and the kernel websocket, as their browsers would. Then: each learner's app
answers them (directly, and in the browser through jupyter-server-proxy) and
nobody else; nobody reads another's home; stopping the servers leaves no
process of any learner. A second hub, with a short idle timeout, shows the
culler ending an idle learner's server and everything it ran.

mod_wsgi's wheel is built once for the module (the hub's wheelhouse): the
learners' ``pip install mod_wsgi`` installs it instead of compiling it three
times over.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from classroom_hub import CellFailed, Classroom, HubLearner
from helpers import TAG
from workshop_runs import NOTEBOOKS, REQUIRE_WORKSHOP, code_cells

from modwsgi_magics.classroom import LearnerPorts, Settings
from modwsgi_magics.classroom.errors import HubError
from modwsgi_magics.classroom.launcher import build_wheel
from modwsgi_magics.classroom.settings import DEFAULT_MAX_PROCESSES

pytestmark = [pytest.mark.classroom, pytest.mark.slow, pytest.mark.timeout(900)]

#: The learners' port blocks start here: outside 20000-30000, where the workshop
#: tier picks its ports, and outside a real classroom's default (20000).
PORT_BASE = 30000
CHAPTERS = ("03-pip-install.ipynb", "04-hello-world.ipynb")


def missing() -> str | None:
    """What this machine lacks to run a classroom, if anything."""
    if os.geteuid() != 0:
        return "the classroom tier runs as root (it creates Linux accounts and nftables rules)"
    settings = Settings.from_environ({})
    for tool, package in (("nft", "nftables"), ("apxs", "apache2-dev")):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            return f"{tool} is missing (apt-get install {package}; scripts/test.sh does)"
    if shutil.which(settings.proxy) is None:
        return "configurable-http-proxy is missing (scripts/test.sh installs it with npm)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is missing: pip install '.[classroom]' (scripts/test.sh does)"
    return None


@pytest.fixture(scope="module", autouse=True)
def machine_can() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get(REQUIRE_WORKSHOP) == "1":
        pytest.fail(f"{reason}; {REQUIRE_WORKSHOP}=1 forbids skipping the classroom tier")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def wheelhouse() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="cls-wheels-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def open_classroom(wheelhouse: Path, idle_timeout: int = 0) -> Classroom:
    try:
        # the leak detector of conftest.py follows the learners' processes too
        return Classroom.open(NOTEBOOKS, wheelhouse, PORT_BASE, idle_timeout, pass_env=TAG)
    except HubError as err:
        pytest.fail(str(err))


def close_classroom(classroom: Classroom) -> list[str]:
    return classroom.close()


@pytest.fixture(scope="module")
def classroom(wheelhouse: Path) -> Iterator[Classroom]:
    settings = Settings.from_environ({"CLASSROOM_WHEELHOUSE": str(wheelhouse)})
    assert build_wheel(settings), "no wheel of mod_wsgi was built"
    opened = open_classroom(wheelhouse)
    try:
        yield opened
    finally:
        close_classroom(opened)


# -- signing in ---------------------------------------------------------------


def test_when_a_name_is_taken_then_only_its_own_password_signs_in_under_it(classroom):
    first, impostor = classroom.learner("taken"), classroom.learner("taken")
    assert not first.sign_in("not-the-workshop-password", "own-password-1")
    assert not first.sign_in(classroom.password, "")  # an own password is required
    assert first.sign_in(classroom.password, "own-password-1")
    assert not impostor.sign_in(classroom.password, "own-password-2")
    assert HubLearner(classroom.url, "cls-taken").sign_in(classroom.password, "own-password-3")


@pytest.mark.parametrize("name", ["root", "www-data", "learner"])
def test_when_a_machine_account_is_named_then_sign_in_is_refused(classroom, name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        pytest.skip(f"no account {name} on this machine")
    assert not HubLearner(classroom.url, name).sign_in(classroom.password, "own-password")


# -- three learners at once -----------------------------------------------------


@dataclass
class Outcome:
    learner: HubLearner
    uid: int
    ports: LearnerPorts
    shown: dict[str, str]
    seconds: float


def work_through(learner: HubLearner, password: str) -> Outcome:
    """Sign in, start the server, run chapters 3 and 4, each in a fresh kernel."""
    started = time.monotonic()
    assert learner.sign_in(password, f"own-{learner.name}")
    learner.get_token()
    learner.start_server()
    uid = pwd.getpwnam(learner.name).pw_uid
    shown = {}
    for chapter in CHAPTERS:
        kernel = learner.kernel(f"workshop/{chapter}")
        try:
            shown[chapter] = "".join(kernel.run(cell) for cell in code_cells(chapter))
        finally:
            kernel.shutdown()
    return Outcome(learner, uid, LearnerPorts.of(uid, PORT_BASE), shown, time.monotonic() - started)


@pytest.fixture(scope="module")
def three(classroom) -> Iterator[list[Outcome]]:
    learners = [classroom.learner(suffix) for suffix in ("ada", "bob", "cyd")]
    try:
        with ThreadPoolExecutor(len(learners)) as pool:
            outcomes = list(pool.map(lambda one: work_through(one, classroom.password), learners))
        print("\nclassroom, three learners at once, sign-in to the end of chapter 4:")
        for outcome in outcomes:
            print(f"  {outcome.learner.name}: {outcome.seconds:.1f} s")
        yield outcomes
    finally:
        for learner in learners:
            if learner.token and learner.server() is not None:
                learner.stop_server()


def test_when_three_learners_run_chapters_3_and_4_at_once_then_each_gets_hello_world(three):
    for outcome in three:
        assert "mod_wsgi-express" in outcome.shown["03-pip-install.ipynb"]
        chapter4 = outcome.shown["04-hello-world.ipynb"]
        assert "Hello World!" in chapter4
        assert f":{outcome.ports.workshop[0]}" in chapter4  # their own port, not 8000
    assert len({outcome.uid for outcome in three}) == 3


def test_when_learners_sign_in_then_each_has_a_private_home_with_the_workshop(three):
    for outcome in three:
        home = Path(pwd.getpwuid(outcome.uid).pw_dir)
        assert home.stat().st_mode & 0o777 == 0o700
        assert home.stat().st_uid == outcome.uid
        assert (home / "workshop" / "04-hello-world.ipynb").stat().st_uid == outcome.uid
        assert (home / "venv" / "bin" / "mod_wsgi-express").exists()


def test_when_a_learner_starts_processes_then_a_limit_of_their_own_holds(three):
    # RLIMIT_NPROC, set by prlimit as the spawner starts their JupyterLab:
    # a fork bomb in one learner's terminal stops at their limit.
    kernel = three[0].learner.kernel("workshop/isolation.ipynb")
    try:
        kernel.run("%load_ext modwsgi_magics")
        shown = kernel.run("%%execute2\nulimit -u; ulimit -Hu")
    finally:
        kernel.shutdown()
    assert shown.split() == [str(DEFAULT_MAX_PROCESSES)] * 2, shown


def start_app(outcome: Outcome):
    kernel = outcome.learner.kernel("workshop/isolation.ipynb")
    kernel.run("%load_ext modwsgi_magics")
    kernel.run(
        "%%execute1 --bg\n"
        "source $HOME/venv/bin/activate\n"
        "cd exercises/hello-world\n"
        "mod_wsgi-express start-server wsgi.py --port $WORKSHOP_PORT"
    )
    return kernel


def curl(kernel, port: int) -> str:
    """What terminal 2 shows for a curl to ``port``, and curl's exit status."""
    return kernel.run(
        f"%%execute2 --allow-error\ncurl -sS -m 5 http://localhost:{port}/; echo status=$?"
    )


def test_when_apps_run_then_each_answers_its_learner_and_nobody_else(three):
    ada, bob, cyd = three
    kernels = {outcome.learner.name: start_app(outcome) for outcome in three}
    try:
        for me, other in ((ada, bob), (bob, cyd), (cyd, ada)):
            kernel = kernels[me.learner.name]
            mine, theirs = me.ports.workshop[0], other.ports.workshop[0]
            assert "Hello World!" in kernel.run(f"%%execute2\ncurl -s http://localhost:{mine}/")
            # another learner's app: refused by the firewall, at once
            refused = curl(kernel, theirs)
            assert "status=7" in refused and "Hello" not in refused, refused
            # another learner's JupyterLab server: refused too
            lab = curl(kernel, other.ports.lab)
            assert "status=7" in lab, lab
            # another learner's home, workshop, terminals' scratch folders
            home = pwd.getpwuid(other.uid).pw_dir
            notebook = f"{home}/workshop/04-hello-world.ipynb"
            looked = kernel.run(
                f"%%execute2 --allow-error\nls {home}; ls {home}/tmp; cat {notebook}"
            )
            assert looked.count("Permission denied") == 3, looked
            # in the browser, through the hub's proxy and jupyter-server-proxy
            own = me.learner.lab("GET", f"proxy/{mine}/")
            assert own.status == 200 and "Hello World!" in own.body, own
            sneaked = other.learner.request("GET", f"/user/{me.learner.name}/proxy/{mine}/")
            assert sneaked.status in (403, 404) and "Hello" not in sneaked.body, sneaked
            relayed = me.learner.lab("GET", f"proxy/{theirs}/")
            assert relayed.status >= 500 and "Hello" not in relayed.body, relayed
    finally:
        for kernel in kernels.values():
            kernel.run("%%execute1\n<ctrl-c>")
            kernel.shutdown()


def processes_of(uids: set[int]) -> list[str]:
    found = []
    for proc in psutil.process_iter(["uids", "cmdline", "status"]):
        owner = proc.info["uids"]
        if owner and owner.real in uids and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])[:120]}")
    return found


def test_when_servers_stop_then_no_process_of_any_learner_is_left(three):
    for outcome in three:
        start_app(outcome)  # left running: stopping the server must end it
    assert all(processes_of({outcome.uid}) for outcome in three)
    apache = [p for p in processes_of({three[0].uid}) if "httpd" in p or "apache2" in p]
    assert apache, "ada's Apache is not running"
    for outcome in three:
        outcome.learner.stop_server()  # with Apache still running in terminal 1
    uids = {outcome.uid for outcome in three}
    deadline = time.monotonic() + 15
    while (left := processes_of(uids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == []


# -- the idle culler -------------------------------------------------------------


def test_when_a_learner_is_idle_then_the_culler_stops_their_server_and_what_it_ran(wheelhouse):
    classroom = open_classroom(wheelhouse, idle_timeout=20)
    try:
        learner = classroom.learner("idle")
        assert learner.sign_in(classroom.password, "own-password")
        learner.get_token()
        learner.start_server()
        uid = pwd.getpwnam(learner.name).pw_uid
        kernel = learner.kernel("workshop/idle.ipynb")
        kernel.run("%load_ext modwsgi_magics")
        kernel.run("%%execute1 --bg\ncd $TMPDIR && nohup python3 -m http.server $WORKSHOP_PORT")
        assert any("http.server" in p for p in processes_of({uid}))
        deadline = time.monotonic() + 90
        while learner.server() is not None:
            assert time.monotonic() < deadline, "the idle culler did not stop the server"
            time.sleep(1)
        wait = time.monotonic() + 15
        while (left := processes_of({uid})) and time.monotonic() < wait:
            time.sleep(0.2)
        assert left == []
    finally:
        assert close_classroom(classroom) == []


def test_when_the_classroom_closes_then_its_accounts_group_and_rules_are_gone(wheelhouse):
    classroom = open_classroom(wheelhouse)
    learner = classroom.learner("brief")
    assert learner.sign_in(classroom.password, "own-password")
    learner.get_token()
    learner.start_server()
    table = classroom.settings.nft_table
    assert table in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    close_classroom(classroom)
    assert (
        table
        not in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    )
    with pytest.raises(KeyError):
        pwd.getpwnam(learner.name)
    with pytest.raises(KeyError):
        grp.getgrnam(classroom.settings.group)


def test_when_a_cell_fails_then_the_client_says_so(classroom):
    learner = classroom.learner("fails")
    assert learner.sign_in(classroom.password, "own-password")
    learner.get_token()
    learner.start_server()
    try:
        kernel = learner.kernel("workshop/fails.ipynb")
        with pytest.raises(CellFailed, match="ZeroDivisionError"):
            kernel.run("1 / 0")
        kernel.shutdown()
    finally:
        learner.stop_server()
