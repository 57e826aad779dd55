#!/usr/bin/env python3
"""How fast is modwsgi_magics next to its peers? One run prints every figure side by side.

Peers: IPython's ``%%bash`` cell magic, pexpect's ``replwrap.bash()`` and
bash_kernel. Usage::

    python3 benchmarks/bench.py            # full run, a few minutes
    python3 benchmarks/bench.py --quick    # fewer repetitions

A benchmark, not a test: it reports PASS/MISS against the goals of the issue
and exits non-zero only when a process it started outlives it.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import psutil
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client import KernelManager
from pexpect import replwrap
from traitlets.config import Config

from modwsgi_magics import RunResult, Terminal
from modwsgi_magics.magics import TerminalMagics

#: Every process this run starts inherits this variable, daemons included, so
#: the exit check finds them even after they were re-parented away from us.
TAG = "MODWSGI_MAGICS_BENCH_TAG"
GOAL_RUN_MS = 1.0
GOAL_CELL_RATIO = 1.3
GOAL_SPEEDUP = 5.0
GOAL_RSS_MB = 100.0
#: %%bash on 10M lines runs only if its 100k-line time predicts less than this.
BASH_10M_CAP = 120.0
RSS_EVERY = 0.05
SEQ_100K_CHARS = 588_895
SEQ_10M = 10_000_000
SEQ_10M_CHARS = 78_888_897
MARKER = re.compile(r"\n\[\.\.\. ([\d,]+) lines \(([\d,]+) characters\) left out[^\n]*\]\n")


@dataclass(frozen=True)
class Plan:
    """Repetitions per figure; each figure is the median of its repetitions."""

    warmup: int
    run: int
    ipython_bash: int
    replwrap: int
    cells: int
    bash_kernel_cells: int
    lines_100k: int
    bash_100k: int
    bash_kernel_100k: int


FULL = Plan(
    warmup=5,
    run=300,
    ipython_bash=100,
    replwrap=30,
    cells=60,
    bash_kernel_cells=20,
    lines_100k=5,
    bash_100k=3,
    bash_kernel_100k=3,
)
QUICK = Plan(
    warmup=2,
    run=50,
    ipython_bash=20,
    replwrap=5,
    cells=30,
    bash_kernel_cells=5,
    lines_100k=2,
    bash_100k=1,
    bash_kernel_100k=1,
)


@dataclass
class Sample:
    """One timed repetition: seconds, and the output characters it delivered."""

    seconds: float
    chars: int = 0
    text: str = ""
    interrupted: bool = False
    intact: bool | None = None  # None: not checked


@dataclass
class Trial:
    """A named thing to time, and how often."""

    name: str
    measure: Callable[[], Sample]
    reps: int
    warmup: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def chars(self) -> str:
        """Characters delivered, as a range when the repetitions differ."""
        low, high = min(s.chars for s in self.samples), max(s.chars for s in self.samples)
        return f"{low:,}" if low == high else f"{low:,}-{high:,}"

    @property
    def intact(self) -> int:
        return sum(bool(s.intact) for s in self.samples)


def run_trials(*trials: Trial) -> dict[str, Trial]:
    """Warm every trial up, then time them round-robin.

    Round-robin rather than one after another: the machine is shared, and a
    burst of load then hits every contender alike instead of one of them,
    which matters most where a goal is a ratio of two figures.
    """
    for trial in trials:
        for _ in range(trial.warmup):
            trial.measure()
    for index in range(max(trial.reps for trial in trials)):
        for trial in trials:
            if index < trial.reps:
                trial.samples.append(trial.measure())
    return {trial.name: trial for trial in trials}


def timed(action: Callable[[], object]) -> Sample:
    """Time one in-process call; in-process peers have no kernel clock to read."""
    started = time.perf_counter()
    action()
    return Sample(time.perf_counter() - started)


# -- in-process -----------------------------------------------------------------


def check_status(result: RunResult) -> None:
    """A figure for a failing command would measure an error path, not a run."""
    if result.status != 0:
        raise RuntimeError(f"Terminal.run({result.command!r}) failed with {result.status}")


def bench_in_process(plan: Plan, workdir: str) -> dict[str, Trial]:
    """One trivial command per call: the engine against %%bash and replwrap."""
    shell = InteractiveShell.instance(config=Config({"HistoryManager": {"enabled": False}}))
    with ExitStack() as stack:
        terminal = stack.enter_context(Terminal(cwd=workdir))
        repl = replwrap.bash()
        stack.callback(repl.child.close, force=True)
        return run_trials(
            Trial(
                "run",
                lambda: timed(lambda: check_status(terminal.run("true"))),
                plan.run,
                plan.warmup * 4,
            ),
            Trial(
                "%%bash",
                lambda: timed(lambda: shell.run_cell_magic("bash", "", "true")),
                plan.ipython_bash,
                plan.warmup,
            ),
            Trial(
                "replwrap",
                lambda: timed(lambda: repl.run_command("true")),
                plan.replwrap,
                plan.warmup,
            ),
        )


# -- kernels --------------------------------------------------------------------


class KernelSession:
    """A kernel and a blocking client: run a cell, time it until the kernel is idle.

    Idle on IOPub, not the execute reply, ends the clock: the reply can come
    before the last output, and a notebook is done only once all is shown.
    """

    def __init__(self, kernel_name: str, workdir: str) -> None:
        self.name = kernel_name
        self.log = open(os.path.join(workdir, f"{kernel_name}.log"), "w")  # noqa: SIM115
        # A private IPYTHONDIR: no user startup files, no writes to ~/.ipython.
        env = dict(os.environ, IPYTHONDIR=os.path.join(workdir, "ipython"))
        self.manager = KernelManager(kernel_name=kernel_name)
        self.manager.start_kernel(cwd=workdir, env=env, stderr=self.log)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid

    def run(self, code: str, *, timeout: float = 600.0, keep_text: bool = False) -> Sample:
        """Execute ``code``; on ``timeout`` interrupt the kernel and report that."""
        started = time.perf_counter()
        msg_id = self.client.execute(code)
        sample = self._collect(msg_id, started + timeout, keep_text)
        sample.seconds = time.perf_counter() - started
        status = self._reply_status(msg_id)
        if status != "ok" and not sample.interrupted:
            raise RuntimeError(f"{self.name} kernel: {code!r} ended with {status}")
        return sample

    def _collect(self, msg_id: str, deadline: float, keep_text: bool) -> Sample:
        """Sum the stream text of one cell until idle; interrupt once at the deadline."""
        sample, parts = Sample(0.0), []
        while True:
            wait = max(0.05, deadline - time.perf_counter())
            try:
                msg = self.client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                if sample.interrupted:
                    raise TimeoutError(f"{self.name} kernel ignores an interrupt") from None
                self.manager.interrupt_kernel()
                sample.interrupted, deadline = True, time.perf_counter() + 60
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream":
                sample.chars += len(content["text"])
                if keep_text:
                    parts.append(content["text"])
            elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
                sample.text = "".join(parts)
                return sample

    def _reply_status(self, msg_id: str) -> str:
        """Read the execute reply too, so a failed cell never counts as a figure."""
        while True:
            reply = self.client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["status"]

    def close(self) -> None:
        """Shut down politely, so the kernel's own atexit closes its terminals."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
        self.log.close()


def bench_cells(python: KernelSession, bash: KernelSession, plan: Plan) -> dict[str, Trial]:
    """A one-line cell through a kernel, against an empty cell and the peers.

    ``print('hi')`` is not a goal: it is the cost of *any* output, so the
    gap between it and ``%%execute1`` is what the magic itself adds.
    """

    def cell(kernel: KernelSession, code: str) -> Callable[[], Sample]:
        return lambda: kernel.run(code)

    return run_trials(
        Trial("%%execute1", cell(python, "%%execute1\necho hi"), plan.cells, plan.warmup),
        Trial("empty", cell(python, ""), plan.cells, plan.warmup),
        Trial("print", cell(python, "print('hi')"), plan.cells, plan.warmup),
        Trial("%%bash", cell(python, "%%bash\necho hi"), plan.cells, plan.warmup),
        Trial("bash_kernel", cell(bash, "echo hi"), plan.bash_kernel_cells, plan.warmup),
    )


def checked(kernel: KernelSession, code: str, expected: str) -> Callable[[], Sample]:
    """A cell whose output is compared with what the command printed.

    Speed is worth nothing if lines go missing or change on the way: on this
    machine bash_kernel has dropped thousands of lines of ``seq 100000`` and
    added stray ``\\r`` characters, so every run is checked, not just counted.
    """

    def measure() -> Sample:
        sample = kernel.run(code, keep_text=True)
        sample.intact, sample.text = sample.text == expected, ""
        return sample

    return measure


def bench_100k(python: KernelSession, bash: KernelSession, plan: Plan) -> dict[str, Trial]:
    """100,000 lines of output through a kernel, and how much of it arrives.

    Only this project gets a warm-up run: the peers take 10-30 s a run, and
    the echo cells before have warmed their kernels up already.
    """
    code, expected = "seq 100000", "".join(f"{n}\n" for n in range(1, 100_001))
    return run_trials(
        Trial("%%execute1", checked(python, f"%%execute1\n{code}", expected), plan.lines_100k, 1),
        Trial("%%bash", checked(python, f"%%bash\n{code}", expected), plan.bash_100k, 0),
        Trial("bash_kernel", checked(bash, code, expected), plan.bash_kernel_100k, 0),
    )


# -- 10 million lines -------------------------------------------------------------


def rss(pid: int) -> int:
    """Resident memory in bytes: what the kernel really holds, not what it mapped."""
    return psutil.Process(pid).memory_info().rss


class RssSampler:
    """Peak resident memory of a process while a block runs, sampled on a thread.

    Readings before and after are not enough: the kernel frees its buffers
    by the time the cell ends, so only sampling during the run sees the peak.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(RSS_EVERY):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1e6


@dataclass
class BigRun:
    """A 10M-line cell: its time, the kernel's memory growth, what the client got."""

    sample: Sample
    growth_mb: float
    marker: str = ""
    left_out: int = 0

    @property
    def kept(self) -> int:
        """Output characters received, not counting the left-out marker."""
        return self.sample.chars - len(self.marker)


def seq_lines(numbers: Iterator[int], chars: int) -> list[str]:
    """Lines of ``seq`` output, numbers taken in turn, until ``chars`` are covered."""
    lines, size = [], 0
    for number in numbers:
        if size >= chars:
            break
        lines.append(f"{number}\n")
        size += len(lines[-1])
    return lines


def seq_ends_match(head: str, tail: str, count: int) -> bool:
    """Whether ``head`` starts and ``tail`` ends the output of ``seq count``.

    With the characters left out added up, this shows a capped cell kept the
    true first and last part of the output, and nothing in between was lost.
    """
    first = "".join(seq_lines(iter(range(1, count + 1)), len(head)))
    last = "".join(reversed(seq_lines(iter(range(count, 0, -1)), len(tail))))
    return first.startswith(head) and last.endswith(tail)


def run_10m(kernel: KernelSession, code: str, timeout: float) -> BigRun:
    """Run a 10M-line cell once, sampling the kernel's memory all the while."""
    with RssSampler(kernel.pid) as sampler:
        sample = kernel.run(code, timeout=timeout, keep_text=True)
    text, sample.text = sample.text, ""  # up to 79 MB for %%bash; counts are reported
    found = MARKER.search(text)
    if found is None:
        whole = sample.chars == SEQ_10M_CHARS
        sample.intact = whole and seq_ends_match(text, text[-1000:], SEQ_10M)
        return BigRun(sample, sampler.growth_mb)
    head, tail = text[: found.start()], text[found.end() :]
    sample.intact = seq_ends_match(head, tail, SEQ_10M)
    left_out = int(found.group(2).replace(",", ""))
    return BigRun(sample, sampler.growth_mb, found.group(0), left_out)


def bench_10m(python: KernelSession, bash_100k: float) -> tuple[BigRun, BigRun | str]:
    """This project on 10M lines; %%bash too if its 100k figure says it ends in time."""
    ours = run_10m(python, "%%execute1\nseq 10000000", timeout=600)
    estimate = bash_100k * 100
    if estimate > BASH_10M_CAP:
        why = f"est. {estimate:.0f} s (100 x its 100k time) > {BASH_10M_CAP:.0f} s cap"
        return ours, f"skipped: {why}"
    return ours, run_10m(python, "%%bash\nseq 10000000", timeout=BASH_10M_CAP)


# -- report ------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """Milliseconds below a second, seconds above: the unit a reader compares in."""
    if seconds < 1:
        return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass
class Goal:
    """One goal of the issue, what was measured, and whether it is met."""

    name: str
    measured: str
    passed: bool


def row(measure: str, ours: str, peer: str, figure: str, ratio: str) -> str:
    """One line of the table; fixed widths so the columns line up in a terminal."""
    return f"{measure:<34} {ours:>12}  {peer:<26} {figure:>12}  {ratio:>8}"


def compare(measure: str, ours: Trial, peers: list[tuple[str, Trial]]) -> list[str]:
    """Rows of one figure against each peer; ratio is peer / this (>1: this is faster)."""
    lines = []
    for index, (label, peer) in enumerate(peers):
        head = (measure, fmt_time(ours.median)) if index == 0 else ("", "")
        ratio = f"{peer.median / ours.median:.2f}x"
        lines.append(row(*head, label, fmt_time(peer.median), ratio))
    return lines


def report_timings(inproc: dict, cells: dict, lines: dict) -> list[str]:
    """The side-by-side table of medians."""
    out = [row("measure (median)", "this project", "peer", "peer figure", "ratio"), "-" * 98]
    out += compare(
        f'Terminal.run("true") n={inproc["run"].reps}',
        inproc["run"],
        [
            (f"%%bash in-process n={inproc['%%bash'].reps}", inproc["%%bash"]),
            (f"replwrap.bash() n={inproc['replwrap'].reps}", inproc["replwrap"]),
        ],
    )
    out += compare(
        f"kernel: %%execute1 echo hi n={cells['%%execute1'].reps}",
        cells["%%execute1"],
        [
            ("empty cell", cells["empty"]),
            ("print('hi') (reference)", cells["print"]),
            ("%%bash echo hi", cells["%%bash"]),
            (f"bash_kernel echo hi n={cells['bash_kernel'].reps}", cells["bash_kernel"]),
        ],
    )
    out += compare(
        f"kernel: seq 100000 n={lines['%%execute1'].reps}",
        lines["%%execute1"],
        [
            (f"%%bash seq 100000 n={lines['%%bash'].reps}", lines["%%bash"]),
            (f"bash_kernel seq 100000 n={lines['bash_kernel'].reps}", lines["bash_kernel"]),
        ],
    )
    return out


def report_output(lines: dict, big: tuple[BigRun, BigRun | str], limit: int) -> list[str]:
    """What the client received: output is only fast if all of it arrives."""
    ours, bash = big
    out = ["", f"stream characters received by the client (seq 100000 prints {SEQ_100K_CHARS:,})"]
    for name in ("%%execute1", "%%bash", "bash_kernel"):
        trial = lines[name]
        out.append(
            f"  {name:<14} {trial.chars:>17}  identical to seq's output in "
            f"{trial.intact}/{len(trial.samples)} runs"
        )
    fate = "all kept" if limit >= SEQ_100K_CHARS else "capped"
    out.append(
        f"  (max_output_chars is {limit:,} characters by default: the 100k lines are {fate})"
    )
    out += ["", f"seq 10000000 through a kernel ({SEQ_10M_CHARS:,} characters printed)"]
    out += describe_big("%%execute1", ours)
    out += [f"  %%bash         {bash}"] if isinstance(bash, str) else describe_big("%%bash", bash)
    return out


def describe_big(name: str, big: BigRun) -> list[str]:
    """Time, memory and what arrived, with the arithmetic shown so it can be checked."""
    note = " (interrupted at the cap)" if big.sample.interrupted else ""
    lines = [
        f"  {name:<14} {fmt_time(big.sample.seconds)}{note}, kernel RSS "
        f"+{big.growth_mb:.1f} MB, received {big.sample.chars:,} characters"
    ]
    if big.marker:
        lines.append(
            f"  {'':<14} = {big.kept:,} kept + {len(big.marker)}-character marker "
            f"{big.marker.strip()!r}; kept + left out = {big.kept + big.left_out:,}"
        )
    if big.sample.intact is not None:
        verdict = "match" if big.sample.intact else "DO NOT match"
        lines.append(f"  {'':<14} kept head and tail {verdict} seq's first and last lines")
    return lines


def goals(inproc: dict, cells: dict, lines: dict, ours: BigRun, limit: int) -> list[Goal]:
    """The issue's goals, each judged from the medians above, not a single run."""
    run_ms = inproc["run"].median * 1000
    cell_ratio = cells["%%execute1"].median / cells["empty"].median
    speedup = lines["%%bash"].median / lines["%%execute1"].median
    kept_ok = bool(ours.marker) and ours.kept <= limit
    return [
        Goal(
            f'Terminal.run("true") median <= {GOAL_RUN_MS:g} ms',
            f"{run_ms:.3f} ms",
            run_ms <= GOAL_RUN_MS,
        ),
        Goal(
            f"%%execute1 echo hi <= {GOAL_CELL_RATIO}x an empty cell",
            f"{cell_ratio:.2f}x",
            cell_ratio <= GOAL_CELL_RATIO,
        ),
        Goal(
            f"seq 100000 >= {GOAL_SPEEDUP:g}x faster than %%bash",
            f"{speedup:.1f}x",
            speedup >= GOAL_SPEEDUP,
        ),
        Goal(
            f"seq 10000000: kernel RSS growth < {GOAL_RSS_MB:g} MB",
            f"{ours.growth_mb:.1f} MB",
            ours.growth_mb < GOAL_RSS_MB,
        ),
        Goal(
            "seq 10000000: notebook keeps <= max_output_chars + marker",
            f"{ours.kept:,} + {len(ours.marker)}",
            kept_ok,
        ),
    ]


def report_goals(items: list[Goal], cells: dict) -> list[str]:
    """PASS/MISS per goal, and the cell ratio against a cell with the same output.

    An empty cell skips IPython's compile and history write, which any other
    cell pays, so ``print('hi')`` shows what the magic itself adds.
    """
    out = ["", "goals"]
    for goal in items:
        out.append(f"  {goal.name:<58} {goal.measured:>18}  {'PASS' if goal.passed else 'MISS'}")
    reference = cells["%%execute1"].median / cells["print"].median
    out.append(
        f"  {'(reference, no goal) %%execute1 echo hi / print(hi) cell':<58} {reference:>17.2f}x"
    )
    return out


def readme_table(
    inproc: dict, cells: dict, lines: dict, big: tuple[BigRun, BigRun | str], quick: bool
) -> list[str]:
    """The README's "Speed and memory" table, filled from this run, with a line
    naming the run it came from (date, commit, machine, load)."""
    ours, bash = big

    def ratios(trial: Trial, *peers: Trial) -> str:
        return "; ".join(f"{peer.median / trial.median:.3g}x" for peer in peers)

    run, ipy, rw = inproc["run"], inproc["%%bash"], inproc["replwrap"]
    cell = cells["%%execute1"]
    cell_peers = [cells["empty"], cells["print"], cells["%%bash"], cells["bash_kernel"]]
    seq = lines["%%execute1"]
    bash_seq, kernel_seq = lines["%%bash"], lines["bash_kernel"]
    lost = sum(not sample.intact for sample in kernel_seq.samples)
    bash_big = bash if isinstance(bash, str) else f"{fmt_time(bash.sample.seconds)}"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load = os.getloadavg()[0]
    return [
        "",
        f"From one {'--quick' if quick else 'full'} run of `python3 benchmarks/bench.py "
        f"--markdown` on "
        f"{time.strftime('%Y-%m-%d')} (commit {commit or 'unknown'}), {psutil.cpu_count()} "
        f"cores, load average {load:.2f} (medians; ratio = peer / this project):",
        "",
        "| measure | this project | peer | ratio |",
        "|---|---|---|---|",
        f'| one command in-process, `Terminal.run("true")` | {fmt_time(run.median)} | '
        f"`%%bash` in-process {fmt_time(ipy.median)}; `replwrap` {fmt_time(rw.median)} | "
        f"{ratios(run, ipy, rw)} |",
        f"| a cell `%%execute1 echo hi` through a kernel | {fmt_time(cell.median)} | empty cell "
        f"{fmt_time(cell_peers[0].median)}; `print('hi')` {fmt_time(cell_peers[1].median)}; "
        f"`%%bash echo hi` {fmt_time(cell_peers[2].median)}; bash_kernel "
        f"{fmt_time(cell_peers[3].median)} | {ratios(cell, *cell_peers)} |",
        f"| `seq 100000` through a kernel | {fmt_time(seq.median)} | `%%bash` "
        f"{fmt_time(bash_seq.median)}; bash_kernel {fmt_time(kernel_seq.median)} (it lost "
        f"output in {lost} of {len(kernel_seq.samples)} runs) | "
        f"{ratios(seq, bash_seq, kernel_seq)} |",
        f"| `seq 10000000` through a kernel | {fmt_time(ours.sample.seconds)}, kernel RSS "
        f"+{ours.growth_mb:.1f} MB, the notebook keeps {ours.kept:,} characters + a "
        f"{len(ours.marker)}-character marker | `%%bash`: {bash_big} | |",
    ]


# -- processes -----------------------------------------------------------------------


def tagged_survivors(tag: str, grace: float = 15.0) -> list[psutil.Process]:
    """Processes carrying this run's tag that are still alive after ``grace`` seconds.

    Shutdown is asynchronous (a kernel's watchdog kills its terminals after
    the kernel ends), so they get a grace period before they count as leaked.
    """
    deadline = time.monotonic() + grace
    while True:
        alive = []
        for proc in psutil.process_iter():
            try:
                live = proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE
                if live and proc.environ().get(TAG) == tag:
                    alive.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def report_leaks(tag: str) -> list[str]:
    """A line per process that outlived the run; each is then killed, by its pid."""
    lines = []
    for proc in tagged_survivors(tag):
        try:
            lines.append(f"LEAKED (now killed): pid {proc.pid} {' '.join(proc.cmdline())}")
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    return lines


@contextmanager
def kernels(workdir: str) -> Iterator[tuple[KernelSession, KernelSession]]:
    """The python kernel (extension loaded) and a bash_kernel, always shut down."""
    with ExitStack() as stack:
        python = KernelSession("python3", workdir)
        stack.callback(python.close)
        bash = KernelSession("bash", workdir)
        stack.callback(bash.close)
        python.run("%load_ext modwsgi_magics")
        yield python, bash


def progress(text: str) -> None:
    """Progress goes to stderr, so stdout holds the report alone."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")


def header(plan: Plan, quick: bool) -> list[str]:
    """Machine and load first: the figures mean little without them on a shared box."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"modwsgi_magics benchmark ({'--quick' if quick else 'full'} run), python "
        f"{platform.python_version()}, {psutil.cpu_count()} cores, load average {load}",
        f"repetitions: {plan}",
        "",
    ]


def measure(plan: Plan, workdir: str) -> tuple[dict, dict, dict, tuple[BigRun, BigRun | str]]:
    """Every section in turn; the kernels live only as long as the sections need them."""
    progress("in-process: Terminal.run, %%bash, replwrap")
    inproc = bench_in_process(plan, workdir)
    with kernels(workdir) as (python, bash):
        progress("kernel cells: %%execute1, empty, print, %%bash, bash_kernel")
        cells = bench_cells(python, bash, plan)
        progress("seq 100000 through kernels (bash_kernel takes 10-25 s a run)")
        lines = bench_100k(python, bash, plan)
        progress("seq 10000000 through the python kernel")
        big = bench_10m(python, lines["%%bash"].median)
        progress("shutting down kernels")
    return inproc, cells, lines, big


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report, then prove no process of this run is left."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the README's table, filled in"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    tag = os.environ[TAG] = uuid.uuid4().hex
    started = time.perf_counter()
    limit = TerminalMagics().max_output_chars
    report = header(plan, args.quick)
    try:
        with tempfile.TemporaryDirectory(prefix="modwsgi-bench-") as workdir:
            inproc, cells, lines, big = measure(plan, workdir)
        report += report_timings(inproc, cells, lines)
        report += report_output(lines, big, limit)
        report += report_goals(goals(inproc, cells, lines, big[0], limit), cells)
        if args.markdown:
            report += readme_table(inproc, cells, lines, big, args.quick)
    except BaseException:  # a failed run must not leave kernels or terminals behind either
        for line in report_leaks(tag):
            progress(line)
        raise
    leaked = report_leaks(tag)
    report += leaked
    report.append(
        f"\nprocesses left behind: {len(leaked)}; load average now {os.getloadavg()[0]:.2f}; "
        f"total run time {time.perf_counter() - started:.1f} s"
    )
    print("\n".join(report))
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
