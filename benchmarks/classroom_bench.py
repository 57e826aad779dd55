"""What one server holds as a classroom (issue #11): a benchmark, not a test.

As root, on this machine: for 1, 3 and 6 learners at the same time, a hub of
its own (as ``scripts/classroom.sh`` starts it) and learners who sign in
through its login form, start their servers and run chapter 3 and chapter 4
up to its first ``Hello World!``, through their kernels over the hub's proxy,
as ``tests/test_classroom.py`` does. Then, with every learner's hello-world
server still running, the memory of each learner's processes (JupyterLab
server, kernel, terminals, Apache), as PSS and USS (psutil), and the CPU time
the whole machine spent per learner. From those: what the machine's cores and
memory would hold.

    python3 benchmarks/classroom_bench.py            # 1, 3 and 6 learners
    python3 benchmarks/classroom_bench.py 1 3 6 12   # other class sizes

The report goes to stdout, progress to stderr. The exit status is non-zero
only when a learner failed or a process outlived the run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from classroom_hub import CellFailed, Classroom, HubLearner, Kernel  # noqa: E402
from workshop_runs import NOTEBOOKS, code_cells  # noqa: E402

from modwsgi_magics.classroom import Settings  # noqa: E402
from modwsgi_magics.classroom.launcher import build_wheel  # noqa: E402

PORT_BASE = 30000
GOAL_MB = 300
CHAPTER3, CHAPTER4 = "03-pip-install.ipynb", "04-hello-world.ipynb"
#: What a learner's process is, by its command line (first match wins).
PARTS = (
    ("Apache", ("apache2", "httpd", "(wsgi:", "mod_wsgi-express")),
    ("kernel", ("ipykernel_launcher", "ipykernel")),
    ("terminals", ("modwsgi_magics.engine.watchdog", "bash")),
    ("JupyterLab", ("jupyterhub-singleuser", "jupyter")),
)


@dataclass
class Learner:
    hub: HubLearner
    retried: list[str] = field(default_factory=list)
    seconds_to_hello: float = 0.0
    cpu_seconds: float = 0.0
    uid: int = 0
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # part: (pss, uss) MB


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(learner: Learner, kernel: Kernel, cell: str) -> str:
    """Run a cell; once more if the engine took a busy command for one waiting for
    input (it does under heavy load: reported, see the classroom README section)."""
    try:
        return kernel.run(cell)
    except CellFailed as err:
        if "InputRequired" not in str(err):
            raise
        learner.retried.append(cell.splitlines()[1] if "\n" in cell else cell)
        return kernel.run(cell)


def to_hello_world(learner: Learner, password: str) -> Learner:
    """Sign in, start the server, chapter 3, chapter 4 up to Hello World! (left running)."""
    hub = learner.hub
    started = time.monotonic()
    assert hub.sign_in(password, f"own-{hub.name}")
    hub.get_token()
    hub.start_server()
    kernel = hub.kernel(f"workshop/{CHAPTER3}")
    for cell in code_cells(CHAPTER3):
        run(learner, kernel, cell)
    kernel.shutdown()
    kernel = hub.kernel(f"workshop/{CHAPTER4}")
    for cell in code_cells(CHAPTER4):
        shown = run(learner, kernel, cell)
        if "curl" in cell and "Hello World!" in shown:  # not `cat wsgi.py`, which shows it too
            break
    else:
        raise AssertionError(f"{hub.name}: chapter 4 showed no Hello World!")
    learner.seconds_to_hello = time.monotonic() - started
    learner.uid = pwd.getpwnam(hub.name).pw_uid
    return learner


def measure(learner: Learner) -> None:
    """Memory by part, and CPU time: what the learner's living processes used,
    and what the processes they reaped (pip, the chapter 3 kernel) did. Other
    work on the machine does not count."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for proc in psutil.process_iter(["uids", "cmdline"]):
        if not proc.info["uids"] or proc.info["uids"].real != learner.uid:
            continue
        try:
            info = proc.memory_full_info()
            cpu = proc.cpu_times()
        except psutil.Error:
            continue
        learner.cpu_seconds += cpu.user + cpu.system + cpu.children_user + cpu.children_system
        command = " ".join(proc.info["cmdline"] or [])
        part = next((name for name, marks in PARTS if any(m in command for m in marks)), "other")
        sums[part][0] += info.pss / 2**20
        sums[part][1] += info.uss / 2**20
    learner.memory = {part: (pss, uss) for part, (pss, uss) in sums.items()}


def one_class(size: int, wheelhouse: Path) -> list[Learner]:
    classroom = Classroom.open(NOTEBOOKS, wheelhouse, PORT_BASE)
    learners = [Learner(classroom.learner(f"l{index}")) for index in range(size)]
    try:
        with ThreadPoolExecutor(size) as pool:
            list(pool.map(lambda one: to_hello_world(one, classroom.password), learners))
        time.sleep(2)  # Apache's children settle
        for learner in learners:
            measure(learner)
        for learner in learners:
            learner.hub.stop_server()
    except BaseException:
        log = classroom.settings.state_dir / "hub.log"
        progress(log.read_text(errors="replace")[-4000:] if log.exists() else "(no hub log)")
        raise
    finally:
        killed = classroom.close()
        if killed:
            progress(f"the launcher had to kill: {killed}")
    return learners


def report(results: dict[int, list[Learner]]) -> None:
    cores, total_gb = os.cpu_count() or 1, psutil.virtual_memory().total / 2**30
    load = ", ".join(f"{value:.1f}" for value in psutil.getloadavg())
    print(f"\nclassroom on {cores} cores, {total_gb:.0f} GB (load average now {load}); ")
    print("hello-world server running; CPU counted for the learners' processes only")
    print(
        "learners | to first Hello World (s) median / max | MB per learner PSS / USS "
        "(JupyterLab, kernel, terminals, Apache) | CPU s per learner"
    )
    worst_pss, cpu_each = 0.0, 0.0
    for size, learners in results.items():
        cpu = sum(learner.cpu_seconds for learner in learners) / len(learners)
        times = sorted(learner.seconds_to_hello for learner in learners)
        pss = [sum(p for p, _ in learner.memory.values()) for learner in learners]
        uss = [sum(u for _, u in learner.memory.values()) for learner in learners]
        parts = defaultdict(float)
        for learner in learners:
            for part, (p, _) in learner.memory.items():
                parts[part] += p / len(learners)
        split = ", ".join(f"{name} {parts[name]:.0f}" for name, _ in PARTS if name in parts)
        print(
            f"{size:8d} | {times[len(times) // 2]:6.1f} / {times[-1]:6.1f}"
            f"{'':24}| {max(pss):5.0f} / {max(uss):5.0f} ({split}) | {cpu:5.1f}"
        )
        worst_pss, cpu_each = max(worst_pss, max(pss)), max(cpu_each, cpu)
    retried = [cell for learners in results.values() for one in learners for cell in one.retried]
    if retried:
        print(f"cells run twice after a false 'waits for keyboard input': {retried}")
    verdict = "PASS" if worst_pss < GOAL_MB else "MISS"
    print(
        f"goal: under {GOAL_MB} MB per learner with their server running: {verdict} "
        f"({worst_pss:.0f} MB PSS at most)"
    )
    free_gb = total_gb - 2  # the hub, its proxy and the system
    print(
        f"memory: {free_gb:.0f} GB for learners holds about {int(free_gb * 1024 / worst_pss)} "
        f"learners with their servers running"
    )
    print(
        f"CPU: chapter 3 and 4 to Hello World! cost {cpu_each:.1f} CPU s a learner; "
        f"a class of 30 starting together waits about {30 * cpu_each / cores:.0f} s for the "
        f"last Hello World! on {cores} cores"
    )


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("classroom_bench: run as root (it creates learners' accounts)", file=sys.stderr)
        return 2
    sizes = [int(arg) for arg in argv] or [1, 3, 6]
    wheelhouse = Path(tempfile.mkdtemp(prefix="cls-bench-wheels-", dir="/tmp"))
    os.chmod(wheelhouse, 0o755)
    results = {}
    try:
        progress("building the wheel of mod_wsgi the learners share")
        build_wheel(Settings.from_environ({"CLASSROOM_WHEELHOUSE": str(wheelhouse)}))
        for size in sizes:
            progress(f"{size} learner(s) at once")
            results[size] = one_class(size, wheelhouse)
    finally:
        shutil.rmtree(wheelhouse, ignore_errors=True)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
