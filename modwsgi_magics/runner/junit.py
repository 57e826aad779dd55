"""A run's report as JUnit XML, the format CI dashboards read.

One ``<testsuite>`` per run, one ``<testcase>`` per notebook; a failed
notebook has a ``<failure>`` whose message names the cell and the error, and
whose text adds the cell's last output; one not run (``--one-kernel``, after
a failure) is ``<skipped>``. Each test case's ``<system-out>``
lists its cells with their times.
"""

from __future__ import annotations

import datetime
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from .results import NotebookResult, RunReport

SUITE_NAME = "modwsgi-magics"


def junit_xml(report: RunReport, suite_name: str = SUITE_NAME) -> ET.ElementTree:
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(report.notebooks)),
        failures=str(len(report.failed)),
        errors="0",
        skipped=str(len(report.not_run)),
        time=f"{report.duration:.3f}",
        timestamp=datetime.datetime.now().isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
    )
    for notebook in report.notebooks:
        suite.append(_testcase(notebook))
    for name in ("tests", "failures", "time"):
        suites.set(name, suite.attrib[name])
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    return tree


def write_junit(report: RunReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(report).write(path, encoding="utf-8", xml_declaration=True)


def _testcase(notebook: NotebookResult) -> ET.Element:
    path = notebook.path.as_posix()
    classname = notebook.path.parent.as_posix().replace("/", ".").strip(".") or "notebooks"
    case = ET.Element(
        "testcase",
        classname=classname,
        name=notebook.path.name,
        file=path,
        time=f"{notebook.duration:.3f}",
    )
    if notebook.not_run:
        ET.SubElement(case, "skipped", message=notebook.error or "")
    elif not notebook.ok:
        cell = notebook.failed_cell
        kind = cell.error.ename if cell is not None and cell.error is not None else "Error"
        failure = ET.SubElement(case, "failure", message=notebook.error or "", type=kind)
        failure.text = notebook.detail
    cells = [
        f"cell {cell.number}/{cell.total} {'ok' if cell.ok else 'FAILED'} "
        f"{cell.duration:.1f}s  {cell.summary}"
        for cell in notebook.cells
    ]
    if cells:
        ET.SubElement(case, "system-out").text = "\n".join(cells)
    return case
