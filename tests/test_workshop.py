"""The mod_wsgi-express workshop, run as a learner would run it (issue #3).

The ``workshop`` tier: every notebook runs in order, as the learner, against
the machine's real Apache, with a mod_wsgi that chapter 3 compiles
(``workshop_runs.py`` says how). On a machine without Apache's ``apxs`` the
whole module is skipped, with one reason; under
``MODWSGI_MAGICS_REQUIRE_WORKSHOP=1`` (``scripts/test.sh`` sets it, so CI can
never skip it silently) every test fails instead, saying what to install.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from workshop_runs import (
    BUILDS_MOD_WSGI,
    CHAPTERS,
    LEARNER,
    NO_APXS,
    PORTS,
    WORKSHOP_TEST_TIMEOUT,
    Learner,
    cached_wheels,
    check_learner,
    check_prerequisites,
    code_cells,
    execute,
    learner_python,
    new_run,
    port_in_use,
    remove,
    skips_the_tier,
)

if skips_the_tier():
    pytest.skip(NO_APXS, allow_module_level=True)

pytestmark = [
    pytest.mark.workshop,
    pytest.mark.kernel,
    pytest.mark.slow,
    pytest.mark.timeout(WORKSHOP_TEST_TIMEOUT),
]


@pytest.fixture(scope="session")
def learner() -> Iterator[Learner]:
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
    # As root, in /tmp: $TMPDIR might sit below /root, where the learner cannot go.
    pip_cache = Path(tempfile.mkdtemp(prefix="modwsgi-pip-cache-", dir="/tmp" if user else None))
    found = Learner(user, learner_python(), pip_cache)
    found.own(pip_cache)
    try:
        yield check_learner(found)
    finally:
        shutil.rmtree(pip_cache, ignore_errors=True)


@pytest.fixture(scope="module")
def workshop(learner: Learner):
    """The whole workshop, every chapter in order, in one HOME, run once for this module."""
    run = new_run(learner)
    try:
        yield execute(learner, run, CHAPTERS)
    finally:
        remove(run)


def test_when_the_machine_is_checked_then_it_can_build_and_serve_mod_wsgi():
    check_prerequisites()  # apxs is here, or the tier is required: what is missing fails


# -- the workshop, run --------------------------------------------------------


def test_when_the_workshop_runs_as_a_learner_then_every_notebook_passes(workshop):
    print(f"\nworkshop run time:\n{workshop.timings()}")
    assert [r["notebook"] for r in workshop.results] == CHAPTERS, workshop.log[-3000:]
    assert all(r["passed"] for r in workshop.results), workshop.failures()


def test_when_the_workshop_has_run_then_pip_keeps_the_mod_wsgi_wheel_for_later_runs(
    learner, workshop
):
    """The runs after the first install the wheel chapter 3 built: one compile a session."""
    assert workshop.results, workshop.log[-3000:]
    assert BUILDS_MOD_WSGI in workshop.outputs("03-pip-install.ipynb")
    assert cached_wheels(learner), f"pip kept no wheel of mod_wsgi in {learner.pip_cache}"


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


def test_when_the_workshop_ends_then_none_of_its_processes_is_left(workshop):
    assert workshop.results, workshop.log[-3000:]
    assert workshop.leftovers == []
    assert not any(port_in_use(port) for port in PORTS)


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
        assert not port_in_use(PORTS[0])
    finally:
        remove(run)


def test_when_chapter_four_runs_alone_from_an_empty_home_then_it_passes(learner):
    """The catch-up cell alone brings a fresh HOME to where chapter 3 leaves it."""
    run = new_run(learner)
    compiled_before = bool(cached_wheels(learner))
    try:
        execute(learner, run, ["04-hello-world.ipynb"])
        assert [r["passed"] for r in run.results] == [True], run.failures() or run.log[-3000:]
        outputs = run.outputs("04-hello-world.ipynb")
        assert re.search(r"^Hello World!$", outputs, re.MULTILINE)
        if compiled_before:  # an earlier run of this session did; pip installs its wheel
            assert BUILDS_MOD_WSGI not in outputs
        assert (run.home / "venv" / "bin" / "mod_wsgi-express").exists()
        assert run.leftovers == []
    finally:
        remove(run)


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
