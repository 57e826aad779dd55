"""The runner: execute notebooks headlessly with nbclient, cell by cell.

It returns dataclasses and reports progress through a :class:`Progress`
object; it prints nothing and knows no argparse (``cli.py`` formats). Each
notebook gets a fresh kernel started in the notebook's folder, so its
terminals start there too; when the kernel shuts down, its watchdogs end every
process the notebook's terminals started. A notebook stops at its first
failing cell, as nbclient (and so nbmake and ``jupyter execute``) does; a cell
tagged ``raises-exception`` may fail.

With ``RunOptions.one_kernel`` the notebooks run in order in ONE kernel,
started in the first notebook's folder, as the pages of a workshop share their
terminals: a virtualenv activated or a server started on one page is still
there on the next. The first failure ends the run; the notebooks after it are
reported as not run.

A kernel's own stdout and stderr (ipykernel's warnings, a ZMQ traceback while
a timed-out kernel shuts down) go to a log file, never to the run's output; the
end of that log is quoted only when the kernel itself fails.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import nbformat
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

from ..engine.output import plain_text
from ..errors import NotebookNotFound, NotebookUnreadable
from ..paths import visible_files
from .results import (
    CellError,
    CellResult,
    NotebookResult,
    NotebookTarget,
    Progress,
    RunOptions,
    RunReport,
)

CellCallback = Callable[[CellResult], None]

#: Seconds between repeated interrupts while a Ctrl-C'd notebook winds down.
INTERRUPT_REPEAT = 2.0
#: Seconds after Ctrl-C after which a kernel that still has not answered is killed.
INTERRUPT_GIVE_UP = 10.0
#: Lines of a failed cell's output kept in its report.
OUTPUT_TAIL_LINES = 10
#: Lines of the kernel's own log quoted when the kernel fails.
KERNEL_LOG_LINES = 5


def find_notebooks(paths: Iterable[Path], exclude: Path | None = None) -> list[NotebookTarget]:
    """The notebooks of ``paths`` in order: files as given, folders searched
    (sorted, hidden folders such as ``.ipynb_checkpoints`` skipped). A notebook
    given twice runs once; ``exclude`` (the folder copies go to) is skipped."""
    targets: list[NotebookTarget] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_file():
            found = [(path, path.name)]
        elif path.is_dir():
            found = [
                (nb, nb.relative_to(path).as_posix())
                for nb in visible_files(path, [".ipynb"], exclude)
            ]
            if not found:
                raise NotebookNotFound.empty(path)
        else:
            raise NotebookNotFound.missing(path)
        for notebook, name in found:
            if notebook.resolve() not in seen:
                seen.add(notebook.resolve())
                targets.append(NotebookTarget(notebook, name))
    return targets


def run_notebooks(
    targets: list[NotebookTarget], options: RunOptions, progress: Progress | None = None
) -> RunReport:
    """Run each notebook in turn, each in its own kernel, whatever the others did;
    after Ctrl-C, no further notebook starts. With ``options.one_kernel`` they
    share one kernel, and the first failure ends the run."""
    progress = progress or Progress()
    started = time.monotonic()
    report = RunReport()
    with _kernel_log() as log, _shared_kernel(targets, options, log) as shared:
        for position, target in enumerate(targets, 1):
            if shared is not None and report.failed:
                report.notebooks.append(_not_run(target, report.failed[0]))
                continue
            progress.notebook_started(position, len(targets), target.path)
            on_cell = functools.partial(progress.cell_finished, position, len(targets), target.path)
            result = run_notebook(target, options, on_cell, kernel=shared, log=log)
            report.notebooks.append(result)
            progress.notebook_finished(position, len(targets), result)
            if result.interrupted:
                break
    report.duration = time.monotonic() - started
    return report


def run_notebook(
    target: NotebookTarget,
    options: RunOptions,
    on_cell: CellCallback | None = None,
    kernel: AsyncKernelManager | None = None,
    log: IO[bytes] | None = None,
) -> NotebookResult:
    """Run one notebook; ``on_cell(CellResult)`` is called as each code cell ends.

    Without ``kernel`` the notebook gets a fresh kernel, shut down at its end;
    with one (``--one-kernel``) it runs in that kernel, which stays up. The
    kernel's own output goes to ``log`` (a temporary file if None).
    """
    started = time.monotonic()
    result = NotebookResult(target.path)
    try:
        notebook = nbformat.read(target.path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError) as err:
        result.error = str(NotebookUnreadable.from_error(target.path, err))
        return result
    tracker = _CellTracker(notebook, result, on_cell)
    # Without a kernel name the notebook's own kernelspec is used.
    kwargs: dict[str, Any] = {"kernel_name": options.kernel_name} if options.kernel_name else {}
    client = NotebookClient(
        notebook,
        km=kernel,
        timeout=math.ceil(options.timeout) if options.timeout else None,
        startup_timeout=math.ceil(options.startup_timeout),
        resources={"metadata": {"path": str(target.path.parent.resolve())}},
        on_cell_start=tracker.started,
        on_cell_executed=tracker.executed,
        **kwargs,
    )
    with contextlib.ExitStack() as stack:
        if log is None:
            log = stack.enter_context(_kernel_log())
        try:
            _execute(client, tracker, log)
        except KeyboardInterrupt:
            tracker.failed_now(CellError("KeyboardInterrupt", "interrupted (Ctrl-C)"))
        except CellExecutionError:
            tracker.failed_by_error()
        except CellTimeoutError:
            tracker.failed_now(
                CellError(
                    "CellTimeoutError", f"the cell did not finish within {options.timeout:g} s"
                )
            )
        except DeadKernelError:
            if tracker.interrupted:  # ended by _execute after Ctrl-C went unanswered
                tracker.failed_now(CellError("KeyboardInterrupt", "interrupted (Ctrl-C)"))
            else:
                tracker.failed_now(
                    CellError("DeadKernelError", "the kernel died while the cell ran" + _tail(log))
                )
        except NoSuchKernel as err:
            result.error = f"no kernel named {err.args[0]!r}; `jupyter kernelspec list` shows them"
        except (RuntimeError, TimeoutError) as err:  # the kernel did not start or answer
            result.error = f"the kernel failed: {err}{_tail(log)}"
        finally:
            if kernel is not None and client.kc is not None:
                client.kc.stop_channels()  # the kernel stays for the next notebook
                client.kc = None
    result.interrupted = tracker.interrupted
    result.duration = time.monotonic() - started
    if options.output_dir is not None:
        result.output_path = options.output_dir / target.output_name
        result.output_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, result.output_path)
    return result


@contextlib.contextmanager
def _kernel_log() -> Iterator[IO[bytes]]:
    """A file for the kernels' own stdout and stderr, gone after the run."""
    with tempfile.TemporaryFile(prefix="modwsgi-magics-kernel-") as log:
        yield log


def _tail(log: IO[bytes]) -> str:
    """The end of the kernel's log, indented, for an error about the kernel itself."""
    with contextlib.suppress(OSError):
        log.flush()
        log.seek(0)
        lines = log.read().decode(errors="replace").strip().splitlines()[-KERNEL_LOG_LINES:]
        log.seek(0, os.SEEK_END)
        if lines:
            return "\nthe kernel's log ended with:\n" + "\n".join("  | " + x for x in lines)
    return ""


@contextlib.contextmanager
def _shared_kernel(
    targets: list[NotebookTarget], options: RunOptions, log: IO[bytes]
) -> Iterator[AsyncKernelManager | None]:
    """With ``--one-kernel``, a kernel manager for every notebook of the run.

    nbclient starts its kernel with the first notebook (in that notebook's
    folder) and leaves it up, since the manager is not its own; it is shut
    down here when the run ends.
    """
    if not options.one_kernel or not targets:
        yield None
        return
    name = options.kernel_name or _kernelspec_name(targets[0].path) or "python3"
    kernel = AsyncKernelManager(kernel_name=name)
    try:
        yield kernel
    finally:
        if kernel.has_kernel:
            with contextlib.suppress(Exception):
                run_sync(kernel.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            run_sync(kernel.cleanup_resources)()


def _kernelspec_name(path: Path) -> str | None:
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError):
        return None
    name = notebook.metadata.get("kernelspec", {}).get("name")
    return str(name) if name else None


def _not_run(target: NotebookTarget, failed: NotebookResult) -> NotebookResult:
    result = NotebookResult(target.path, not_run=True)
    result.error = f"not run: {failed.path} failed before it in the kernel they share"
    return result


def _execute(client: NotebookClient, tracker: _CellTracker, log: IO[bytes]) -> None:
    """``client.execute()`` in a worker thread, so that Ctrl-C reaches this one.

    On the main thread nbclient answers SIGINT by shutting the kernel down
    while the cell still runs, and its two clean-ups then race (an
    AttributeError from nbclient 0.11). Here Ctrl-C interrupts the kernel
    instead, as Jupyter's stop button does: the running command is
    interrupted, its cell fails, and nbclient shuts the kernel down as after
    any failure. No further cell starts. A second Ctrl-C stops waiting.
    A kernel started here writes its own output to ``log``.
    """
    failure: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            client.execute(stdout=log, stderr=log)
        except BaseException as err:  # handed to the calling thread, raised there
            failure.append(err)
        finally:
            done.set()

    # An Event, not Thread.join(): a join that Ctrl-C interrupts may return at
    # once the next time on Python 3.11, while the thread still runs.
    threading.Thread(target=work, name="nbclient", daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        tracker.interrupted = True
        # A kernel between two cells ignores SIGINT, and the next cell may already
        # be on its way: repeat the interrupt until nbclient gives up. A SIGINT
        # that lands in ipykernel outside the cell's code loses the cell's reply,
        # and nbclient would wait for the cell's timeout: past INTERRUPT_GIVE_UP,
        # the kernel is killed (its terminals' watchdogs end what they started).
        given_up = time.monotonic() + INTERRUPT_GIVE_UP
        _interrupt_kernel(client)
        while not done.wait(INTERRUPT_REPEAT):
            if time.monotonic() < given_up:
                _interrupt_kernel(client)
            else:
                _interrupt_kernel(client, signal.SIGKILL)
    if failure:
        raise failure[0]


def _interrupt_kernel(client: NotebookClient, sig: signal.Signals = signal.SIGINT) -> None:
    """SIGINT to the kernel process, as Jupyter's stop button sends (or ``sig``)."""
    pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class _CellTracker:
    """nbclient's cell hooks, turned into CellResults on a NotebookResult."""

    def __init__(
        self, notebook: nbformat.NotebookNode, result: NotebookResult, on_cell: CellCallback | None
    ) -> None:
        runnable = [
            index
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and cell.source.strip()
        ]
        self.numbers = {index: number for number, index in enumerate(runnable, 1)}
        self.result = result
        self.on_cell = on_cell
        self.current: tuple[int, nbformat.NotebookNode, float] | None = None
        self.interrupted = False

    def started(self, cell: nbformat.NotebookNode, cell_index: int) -> None:
        if self.interrupted:
            raise KeyboardInterrupt  # Ctrl-C came between cells: run no more
        if cell_index in self.numbers:
            self.current = (cell_index, cell, time.monotonic())

    def executed(
        self, cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict[str, Any]
    ) -> None:
        content = (execute_reply or {}).get("content", {})
        allowed = "raises-exception" in cell.metadata.get("tags", [])
        error = None
        if content.get("status") == "error" and not allowed:
            error = CellError(
                content.get("ename", "Error"),
                content.get("evalue", ""),
                "\n".join(content.get("traceback", [])),
                _output_tail(cell),
            )
        self._finish(error)

    def failed_by_error(self) -> None:
        failed = self.result.cells[-1] if self.result.cells else None
        self._fail(failed)

    def failed_now(self, error: CellError) -> None:
        """The running cell ended without a reply (timeout, dead kernel)."""
        if self.current is not None:
            error.output = _output_tail(self.current[1])
            self._finish(error)
            self._fail(self.result.cells[-1])
        else:
            self.result.error = error.text

    def _finish(self, error: CellError | None) -> None:
        if self.current is None:
            return
        index, cell, started = self.current
        self.current = None
        number = self.numbers[index]
        done = CellResult(
            index, number, len(self.numbers), cell.source, time.monotonic() - started, error
        )
        self.result.cells.append(done)
        if self.on_cell is not None:
            self.on_cell(done)

    def _fail(self, cell: CellResult | None) -> None:
        self.result.failed_cell = cell
        if cell is None or cell.error is None:
            self.result.error = "interrupted (Ctrl-C)" if self.interrupted else "a cell failed"
        else:
            self.result.error = f"cell {cell.number}/{cell.total}: {cell.error.text}"


def _output_tail(cell: nbformat.NotebookNode) -> str:
    text = "".join(
        output.get("text", "") for output in cell.get("outputs", []) if output.get("text")
    )
    return "\n".join(plain_text(text).rstrip().splitlines()[-OUTPUT_TAIL_LINES:])
