"""The workshop's notebooks as files, and the rule that skips or fails the
workshop tier: none of it needs Apache or starts a kernel."""

from __future__ import annotations

import re

import nbformat
import pytest
from workshop_runs import (
    CHAPTERS,
    NO_APXS,
    NOTEBOOKS,
    REQUIRE_WORKSHOP,
    check_prerequisites,
    code_cells,
    read,
    skips_the_tier,
)


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


def test_when_exercises_are_listed_then_hello_world_is_a_real_file():
    source = (NOTEBOOKS / "exercises" / "hello-world" / "wsgi.py").read_text()
    assert "def application(environ, start_response)" in source
    assert "Hello World!" in source


# -- the workshop tier: skipped or failed on a machine without apxs -------------


def test_when_apxs_is_missing_then_the_workshop_tier_is_skipped_saying_how_to_get_it(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(REQUIRE_WORKSHOP, raising=False)
    assert skips_the_tier(path=str(tmp_path))  # an empty folder: no apxs there
    with pytest.raises(pytest.skip.Exception) as skipped:
        check_prerequisites(path=str(tmp_path))
    assert skipped.value.msg == NO_APXS
    assert "apt-get install apache2-dev" in NO_APXS and "scripts/test.sh" in NO_APXS


def test_when_apxs_is_missing_and_the_workshop_is_required_then_the_check_fails(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(REQUIRE_WORKSHOP, "1")
    assert not skips_the_tier(path=str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_WORKSHOP}=1 .*apache2-dev"):
        check_prerequisites(path=str(tmp_path))
