"""``modwsgi-magics``: run notebooks headlessly, convert Educates workshops.

Thin by design: argparse in, :mod:`.runner` / :mod:`.convert` do the work, and
this module only formats what they return. Exit status: 0 all is well, 1 a
notebook failed, 2 the request itself could not be carried out (a missing
path, a bad workshop), 130 interrupted; every non-zero exit says why on the
last line it prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ConverterMissing, ToolError, WorkshopError
from .runner.execute import find_notebooks, run_notebooks
from .runner.junit import write_junit
from .runner.results import CellResult, NotebookResult, Progress, RunOptions

DEFAULT_TIMEOUT = 600.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modwsgi-magics",
        description="Run notebooks that use the modwsgi_magics terminals; convert Educates "
        "workshop Markdown into such notebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="execute notebooks headlessly and report each cell",
        description="Execute notebooks (files, or folders searched for *.ipynb) in order, each "
        "in a fresh kernel (or all in one, --one-kernel). Exit status 1 if any notebook fails.",
    )
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on each cell (default {DEFAULT_TIMEOUT:g}; 0 for none)",
    )
    run.add_argument("--kernel", metavar="NAME", help="kernel to use (default: the notebook's)")
    run.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="write the executed notebooks here"
    )
    run.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    run.add_argument(
        "--one-kernel",
        action="store_true",
        help="run the notebooks in order in ONE kernel (started in the first one's folder), "
        "so terminals, virtualenvs and servers carry over from notebook to notebook; the "
        "first failure ends the run",
    )
    run.set_defaults(handler=run_command)
    conv = commands.add_parser(
        "convert",
        help="turn Educates workshop Markdown into notebooks",
        description="Convert workshop pages (Markdown files, or workshop folders in the "
        "workshop's own order) into notebooks. With -o FILE.ipynb the pages are joined into "
        "one notebook; with -o DIR each page becomes DIR/PAGE.ipynb.",
    )
    conv.add_argument("sources", nargs="+", type=Path, metavar="SRC")
    conv.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="FILE.ipynb or DIR"
    )
    conv.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a data variable's value ({{ NAME }}, {{< param NAME >}}), in prose and commands; "
        "repeatable; pathway_name=NAME converts that pathway",
    )
    conv.set_defaults(handler=convert_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ToolError as err:
        _say(f"modwsgi-magics {args.command}: {err}", error=True)
        return 2
    except KeyboardInterrupt:
        _say(f"modwsgi-magics {args.command}: interrupted", error=True)
        return 130


# -- run ----------------------------------------------------------------------


class ConsoleProgress(Progress):
    """A line per cell and per notebook, flushed at once for CI logs."""

    def cell_finished(self, position: int, total: int, path: Path, cell: CellResult) -> None:
        state = "ok" if cell.ok else "FAILED"
        _say(
            f"[{position}/{total}] {path}  cell {cell.number}/{cell.total} {cell.summary} "
            f"... {state} {cell.duration:.1f}s"
        )

    def notebook_finished(self, position: int, total: int, result: NotebookResult) -> None:
        state = "ok" if result.ok else "FAILED"
        _say(f"[{position}/{total}] {result.path} ... {state} {result.duration:.1f}s")
        if not result.ok:
            _say(_indent(result.detail))


def run_command(args: argparse.Namespace) -> int:
    targets = find_notebooks(args.paths, exclude=args.output_dir)
    options = RunOptions(
        timeout=args.timeout or None,
        kernel_name=args.kernel,
        output_dir=args.output_dir,
        one_kernel=args.one_kernel,
    )
    report = run_notebooks(targets, options, ConsoleProgress())
    if args.junit:
        write_junit(report, args.junit)
    if report.ok:
        _say(f"{len(report.notebooks)} notebook(s) passed in {report.duration:.1f}s")
        return 0
    _say("")
    for result in report.failed:
        _say(f"FAILED {result.path}: {result.error}")
    for result in report.not_run:
        _say(f"NOT RUN {result.path}: {result.error}")
    names = ", ".join(str(result.path) for result in report.failed)
    if report.interrupted:
        left = len(targets) - len(report.notebooks)
        _say(f"interrupted (Ctrl-C) after {report.duration:.1f}s: {names}; {left} not run")
        return 130
    not_run = f"; {len(report.not_run)} not run" if report.not_run else ""
    _say(
        f"{len(report.failed)} of {len(report.notebooks)} notebook(s) failed "
        f"in {report.duration:.1f}s: {names}{not_run}"
    )
    return 1


# -- convert ------------------------------------------------------------------


def convert_command(args: argparse.Namespace) -> int:
    variables = {}
    for text in args.var:
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise WorkshopError.bad_variable(text)
        variables[name.strip()] = value
    # Imported here: markdown-it-py and PyYAML come with the `convert` extra only.
    try:
        from .convert.files import convert_files
    except ModuleNotFoundError as err:
        if err.name not in ConverterMissing.MODULES:
            raise
        raise ConverterMissing.from_error(err) from None
    conversion = convert_files(args.sources, args.output, variables)
    for notebook in conversion.written:
        _say(f"wrote {notebook.path} ({notebook.cells} cells, {notebook.code_cells} code)")
    if conversion.images:
        folders = sorted({str(image.parent) for image in conversion.images})
        _say(f"copied {len(conversion.images)} image(s) to {', '.join(folders)}")
    if conversion.exercises is not None:
        _say(f"copied the workshop's exercises to {conversion.exercises}")
    for note in conversion.notes:
        _say(f"note: {note}", error=True)
    for warning in conversion.warnings:
        _say(f"warning: {warning}", error=True)
    return 0


# -- helpers ------------------------------------------------------------------


def _say(text: str, error: bool = False) -> None:
    print(text, file=sys.stderr if error else sys.stdout, flush=True)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
