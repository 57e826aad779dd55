"""``modwsgi-magics convert`` and ``run`` as a CI user runs them: subprocesses.

The fixture workshops (``fixtures/workshops/``) use every legacy fence and
clickable action; converted, they run a real web server in one terminal,
``curl`` in the other, and answer a prompt through ``terminal:input``. Their
commands read the server's port from ``MODWSGI_TEST_PORT``, which reaches the
terminals through the runner's, the kernel's and the shell's environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import nbformat
import psutil
import pytest
from helpers import free_port, tagged_processes, wait_until
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

WORKSHOPS = Path(__file__).with_name("fixtures") / "workshops"


def interrupt_cli(args: list, when: Callable[[subprocess.Popen], object]) -> tuple[int, str]:
    """Start the CLI, press Ctrl-C once ``when(process)`` returns; its status and output."""
    process = subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        when(process)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out


def default_sigint() -> None:
    """A CLI under test hears Ctrl-C even when the suite runs with SIGINT ignored
    (started with `&` or nohup), as a learner's terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


CLI = [sys.executable, "-m", "modwsgi_magics"]
#: Bound on one CLI call; the fixture notebooks need a few seconds each.
DEADLINE = 300
LOAD = "%load_ext modwsgi_magics"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def env(port: int) -> dict[str, str]:
    return {**os.environ, "MODWSGI_TEST_PORT": str(port)}


def cli(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
    )


def servers_on(port: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "http.server" in cmdline and str(port) in cmdline:
            found.append(proc)
    return found


def outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Each code cell's stream output, in order."""
    return [
        "".join(out.get("text", "") for out in cell.outputs)
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [new_markdown_cell("A test notebook.")] + [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


# -- convert and run the fixture workshops --------------------------------------


@pytest.mark.kernel
@pytest.mark.slow
def test_when_the_actions_workshop_is_converted_and_run_then_every_step_passes(tmp_path, env, port):
    joined = tmp_path / "actions.ipynb"
    converted = cli("convert", WORKSHOPS / "actions", "-o", joined)
    assert converted.returncode == 0, converted.stderr
    assert f"wrote {joined}" in converted.stdout
    assert "b-intro.md:39: `dashboard:open-url` kept as a note" in converted.stderr

    run = cli(
        "run", joined, "--output-dir", tmp_path / "out", "--junit", tmp_path / "j.xml", env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"[1/1] {joined}  cell 1/13 %load_ext modwsgi_magics ... ok ")
    assert f"[1/1] {joined}  cell 13/13 %%execute-all --clear | echo" in lines[12]
    assert lines[-1].startswith("1 notebook(s) passed in ")

    executed = nbformat.read(tmp_path / "out" / "actions.ipynb", as_version=4)
    shown = outputs(executed)
    assert "Serving HTTP on 127.0.0.1 port" in shown[4]  # the server, in terminal 1
    assert shown[5].strip() == "200"  # curl, in terminal 2
    assert "answer=y" in shown[7]  # the prompt, answered by terminal:input
    assert "name=ok" in shown[8]  # input typed in two pieces
    assert "typed at the prompt" in shown[11]
    assert shown[12].count("hello, done") == 2
    assert not servers_on(port)

    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    assert suite.find("testcase").get("name") == "actions.ipynb"


@pytest.mark.kernel
@pytest.mark.slow
def test_when_the_legacy_workshop_becomes_a_folder_then_its_notebooks_run_in_page_order(
    tmp_path, env, port
):
    folder = tmp_path / "legacy"
    converted = cli("convert", WORKSHOPS / "legacy", "-o", folder)
    assert converted.returncode == 0, converted.stderr
    names = ["01-setup.ipynb", "02-server.ipynb", "03-finish.ipynb"]
    assert sorted(p.name for p in folder.iterdir()) == names

    run = cli("run", folder, "--output-dir", tmp_path / "out", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    finished = [
        line
        for line in run.stdout.splitlines()
        if line.endswith("s") and " ... ok" in line and "cell" not in line
    ]
    assert [line.split()[1] for line in finished] == [str(folder / name) for name in names]
    server = outputs(nbformat.read(tmp_path / "out" / "02-server.ipynb", as_version=4))
    assert server[2].strip() == "200"
    assert "hello from the top" in outputs(nbformat.read(tmp_path / "out" / names[0], 4))[2]
    assert not servers_on(port)


@pytest.mark.kernel
@pytest.mark.slow
def test_when_converted_notebooks_run_under_nbmake_then_pytest_passes(tmp_path, env):
    pytest.importorskip("nbmake")
    joined = tmp_path / "actions.ipynb"
    converted = cli("convert", WORKSHOPS / "actions", "-o", joined)
    assert converted.returncode == 0, converted.stderr
    assert f"wrote {joined}" in converted.stdout
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-p", "no:cacheprovider", "-q", joined],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=DEADLINE,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^1 passed\b", run.stdout, re.MULTILINE), run.stdout


# -- run: failures as CI reads them ---------------------------------------------


@pytest.mark.kernel
@pytest.mark.slow
def test_when_a_command_fails_then_run_names_notebook_cell_line_and_error(tmp_path):
    bad = write_notebook(
        tmp_path / "bad.ipynb",
        "%load_ext modwsgi_magics",
        "%%execute-1\necho before\nfalse\necho after",
        "%%execute-1\necho never",
    )
    good = write_notebook(tmp_path / "good.ipynb", "print('fine')")
    run = cli("run", bad, good, "--junit", tmp_path / "report.xml")

    assert run.returncode == 1
    out = run.stdout
    assert f"[1/2] {bad}  cell 2/3 %%execute-1 | echo before ... FAILED" in out
    assert f"[1/2] {bad} ... FAILED" in out
    assert "cell 2/3 (notebook cell #3): %%execute-1 | echo before" in out
    assert "CommandFailed: terminal 1: line 2: `false` exited with status 1" in out
    assert "  | before" in out  # the cell's last output
    assert "echo never" not in out  # the notebook stopped at its failing cell
    assert f"[2/2] {good} ... ok" in out  # the next notebook still ran
    assert f"FAILED {bad}: cell 2/3: CommandFailed: terminal 1: line 2:" in out
    assert out.splitlines()[-1].startswith("1 of 2 notebook(s) failed in ")
    assert out.splitlines()[-1].endswith(f": {bad}")

    suite = ET.parse(tmp_path / "report.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase[@name='bad.ipynb']/failure")
    assert failure.get("type") == "CommandFailed"
    assert failure.get("message").startswith("cell 2/3: CommandFailed: terminal 1: line 2:")
    assert "  | before" in failure.text
    assert suite.find("testcase[@name='good.ipynb']/failure") is None


@pytest.mark.kernel
@pytest.mark.slow
def test_when_a_cell_outlives_the_timeout_then_run_fails_it_and_ends_the_command(tmp_path):
    slow = write_notebook(
        tmp_path / "slow.ipynb", "%load_ext modwsgi_magics", "%%execute-2\necho started; sleep 987"
    )
    run = cli("run", slow, "--timeout", "3")
    assert run.returncode == 1
    assert "cell 2/2 %%execute-2 | echo started; sleep 987 ... FAILED" in run.stdout
    assert "CellTimeoutError: the cell did not finish within 3 s" in run.stdout
    # The kernel's own complaints (a ZMQError traceback as it is shut down
    # mid-reply, ipykernel's warnings) stay out of the run's output.
    everything = run.stdout + run.stderr
    assert "Traceback" not in everything and "ZMQError" not in everything
    assert "IPKernelApp" not in everything
    assert run.stderr == ""

    def sleeping() -> list[psutil.Process]:
        procs = psutil.process_iter(["cmdline"])
        return [p for p in procs if p.info["cmdline"] == ["sleep", "987"]]

    wait_until(lambda: not sleeping())


@pytest.mark.kernel
def test_when_run_gets_ctrl_c_then_the_command_is_interrupted_and_nothing_else_runs(
    tmp_path, no_leftover_processes
):
    slow = write_notebook(tmp_path / "a.ipynb", LOAD, "%%execute-1\nsleep 955")
    later = write_notebook(tmp_path / "b.ipynb", "print('never')")

    def sleeping() -> list[psutil.Process]:  # this run's, not another suite's
        found = []
        for proc in tagged_processes(no_leftover_processes):
            with contextlib.suppress(psutil.Error):
                if proc.cmdline() == ["sleep", "955"]:
                    found.append(proc)
        return found

    returncode, out = interrupt_cli(["run", slow, later], lambda _: wait_until(sleeping, 60))
    assert returncode == 130
    assert "CommandInterrupted: terminal 1: interrupted `sleep 955`" in out
    assert out.splitlines()[-1].startswith("interrupted (Ctrl-C) after ")
    assert out.splitlines()[-1].endswith(f": {slow}; 1 not run")
    assert str(later) not in out
    wait_until(lambda: not sleeping())


@pytest.mark.kernel
def test_when_a_cell_is_tagged_raises_exception_then_its_error_is_allowed(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("raise ValueError('expected')")])
    notebook.cells[0].metadata["tags"] = ["raises-exception"]
    nbformat.write(notebook, tmp_path / "allowed.ipynb")
    run = cli("run", tmp_path / "allowed.ipynb")
    assert run.returncode == 0, run.stdout
    assert "cell 1/1 raise ValueError('expected') ... ok" in run.stdout


@pytest.mark.kernel
@pytest.mark.slow
def test_when_a_folder_is_run_then_its_notebooks_run_sorted_without_checkpoints(tmp_path):
    write_notebook(tmp_path / "b.ipynb", "print('b')")
    (tmp_path / "sub").mkdir()
    write_notebook(tmp_path / "sub" / "a.ipynb", "print('a')")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / ".ipynb_checkpoints" / "b-checkpoint.ipynb", "raise SystemExit")
    run = cli("run", tmp_path, "--output-dir", tmp_path / "executed")
    assert run.returncode == 0, run.stdout
    assert [line.split()[1] for line in run.stdout.splitlines() if " cell " not in line][:2] == [
        str(tmp_path / "b.ipynb"),
        str(tmp_path / "sub" / "a.ipynb"),
    ]
    assert (tmp_path / "executed" / "sub" / "a.ipynb").is_file()
    again = cli("run", tmp_path, "--output-dir", tmp_path / "executed")
    assert "[1/2]" in again.stdout and "[3/" not in again.stdout  # copies are not run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "{tmp}/missing.ipynb"], "run: {tmp}/missing.ipynb: no such file"),
        (["run", "{tmp}"], "run: {tmp}: no notebooks (*.ipynb) in this folder"),
        (["convert", "{tmp}/gone.md", "-o", "{tmp}/x.ipynb"], "convert: {tmp}/gone.md: no such"),
        (["convert", "{tmp}", "-o", "{tmp}/x.ipynb"], "convert: {tmp}: no Markdown pages"),
    ],
)
def test_when_the_request_cannot_be_done_then_exit_2_says_why(tmp_path, args, message):
    run = cli(*(arg.format(tmp=tmp_path) for arg in args))
    assert run.returncode == 2
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("modwsgi-magics " + message.format(tmp=tmp_path))


@pytest.mark.parametrize("module", ["yaml", "markdown_it"])
def test_when_the_convert_extra_is_missing_then_convert_says_how_to_install_it(tmp_path, module):
    """markdown-it-py and PyYAML come with the `convert` extra only; `run` needs neither."""
    page = tmp_path / "page.md"
    page.write_text("```execute\nls\n```\n")
    without = (
        f"import sys; sys.modules[{module!r}] = None; "  # `import` of it now fails
        "from modwsgi_magics.cli import main; sys.exit(main(sys.argv[1:]))"
    )

    def cli_without(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", without, *map(str, args)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=DEADLINE,
        )

    converted = cli_without("convert", page, "-o", tmp_path / "x.ipynb")
    assert converted.returncode == 2, converted.stderr
    assert converted.stderr.strip().splitlines() == [
        f"modwsgi-magics convert: the converter needs the 'convert' extra (no module named "
        f"{module!r}); install it with: pip install 'modwsgi_magics[convert]'"
    ]
    assert not (tmp_path / "x.ipynb").exists()
    run = cli_without("run", tmp_path / "missing.ipynb")
    assert run.returncode == 2
    assert "no such file or folder" in run.stderr


def test_when_the_kernel_does_not_exist_then_the_notebook_fails_saying_so(tmp_path):
    notebook = write_notebook(tmp_path / "k.ipynb", "print(1)")
    run = cli("run", notebook, "--kernel", "no-such-kernel")
    assert run.returncode == 1
    assert "no kernel named 'no-such-kernel'" in run.stdout


@pytest.mark.kernel
def test_when_a_file_is_not_a_notebook_then_it_fails_and_the_others_run(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    good = write_notebook(tmp_path / "good.ipynb", "print(1)")
    run = cli("run", tmp_path / "broken.ipynb", good)
    assert run.returncode == 1
    assert f"{tmp_path / 'broken.ipynb'}: not a readable notebook" in run.stdout
    assert f"[2/2] {good} ... ok" in run.stdout


def test_when_pages_would_share_a_notebook_name_then_convert_refuses(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "page.md").write_text("```execute\nls\n```\n")
    run = cli(
        "convert", tmp_path / "a" / "page.md", tmp_path / "b" / "page.md", "-o", tmp_path / "out"
    )
    assert run.returncode == 2
    assert "would both be written to" in run.stderr
    joined = cli(
        "convert",
        tmp_path / "a" / "page.md",
        tmp_path / "b" / "page.md",
        "-o",
        tmp_path / "both.ipynb",
    )
    assert joined.returncode == 0, joined.stderr
    notebook = nbformat.read(tmp_path / "both.ipynb", as_version=4)
    assert [c.source for c in notebook.cells] == [
        "# Page",  # each page's title, from its file name: the pages stay apart
        "%load_ext modwsgi_magics",
        "%%execute\nls",
        "# Page",
        "%%execute\nls",
    ]


def test_when_the_console_script_is_installed_then_it_is_the_same_command():
    script = Path(sys.executable).with_name("modwsgi-magics")
    if not script.exists():
        pytest.skip("the console script is not installed beside this Python")
    run = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert "run" in run.stdout and "convert" in run.stdout


@pytest.mark.kernel
def test_when_ctrl_c_lands_between_cells_then_the_run_still_stops(tmp_path):
    """The kernel ignores SIGINT between cells; the runner repeats it until the cell ends."""
    slow = write_notebook(tmp_path / "a.ipynb", LOAD, "%%execute-1\nsleep 956")

    def after_first_cell(process: subprocess.Popen) -> None:
        assert "cell 1/2" in process.stdout.readline()  # the next cell is on its way

    returncode, out = interrupt_cli(["run", slow], after_first_cell)
    assert returncode == 130, out
    assert f"[1/1] {slow} ... FAILED" in out  # Ctrl-C met cell 2, or the gap before it
    assert re.search(r"^    (CommandInterrupted|KeyboardInterrupt): ", out, re.MULTILINE), out
    assert out.splitlines()[-1].startswith("interrupted (Ctrl-C) after ")
    assert out.splitlines()[-1].endswith(f": {slow}; 0 not run")


# -- run --one-kernel: pages that share their terminals --------------------------


@pytest.mark.kernel
def test_when_notebooks_share_one_kernel_then_terminals_and_servers_carry_over(tmp_path, port):
    first = write_notebook(
        tmp_path / "a.ipynb",
        LOAD,
        f"%%execute-1 --bg --wait-url http://127.0.0.1:{port}/\n"
        f"python3 -m http.server {port} --bind 127.0.0.1",
        "%%execute-2\nexport SHARED=from-a",
        "x = 41",
    )
    second = write_notebook(
        tmp_path / "b.ipynb",
        f"%%execute-2 --expect '^200$'\ncurl -s -o /dev/null -w '%{{http_code}}\\n' "
        f"http://127.0.0.1:{port}/",
        "%%execute-2 --expect from-a\necho $SHARED",
        "assert x == 41",
    )
    run = cli("run", "--one-kernel", first, second)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("2 notebook(s) passed in ")
    assert not servers_on(port)  # the shared kernel took its server with it

    alone = cli("run", first, second)  # each in its own kernel: b has no extension, no server
    assert alone.returncode == 1
    assert f"FAILED {second}: cell 1/3: UsageError: Cell magic `%%execute-2` not found." in (
        alone.stdout
    )
    assert not servers_on(port)


@pytest.mark.kernel
def test_when_a_notebook_fails_in_the_shared_kernel_then_the_rest_are_not_run(tmp_path):
    bad = write_notebook(tmp_path / "a.ipynb", "raise ValueError('first')")
    later = write_notebook(tmp_path / "b.ipynb", "print('never')")
    last = write_notebook(tmp_path / "c.ipynb", "print('never')")
    run = cli("run", "--one-kernel", bad, later, last, "--junit", tmp_path / "j.xml")
    assert run.returncode == 1
    assert f"NOT RUN {later}: not run: {bad} failed before it in the kernel they share" in (
        run.stdout
    )
    assert f"NOT RUN {last}: not run: {bad} failed" in run.stdout
    assert run.stdout.splitlines()[-1].endswith(f": {bad}; 2 not run")
    assert "never" not in run.stdout
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "2")
    assert suite.find("testcase[@name='b.ipynb']/skipped") is not None


# -- real-shaped workshops: converted, then run without hand edits ------------------


@pytest.mark.kernel
def test_when_the_hugo_workshop_is_converted_and_run_then_its_server_and_images_work(
    tmp_path, port
):
    """A server started in terminal 1, used from terminal 2 and never stopped;
    images in bundles, static files and site paths; the exercises folder; a
    Python REPL that blocks are typed into, up to its exit()."""
    joined = tmp_path / "workshop" / "hugo.ipynb"
    converted = cli("convert", WORKSHOPS / "hugo", "-o", joined, "--var", f"server_port={port}")
    assert converted.returncode == 0, converted.stderr
    assert converted.stdout.splitlines() == [
        f"wrote {joined} (26 cells, 11 code)",
        f"copied 4 image(s) to {tmp_path / 'workshop' / 'images'}",
        f"copied the workshop's exercises to {tmp_path / 'workshop' / 'exercises'}",
    ]
    assert "warning: " in converted.stderr and "image missing.png not found" in converted.stderr
    assert "left as written in a code cell" not in converted.stderr

    run = cli("run", joined, "--output-dir", tmp_path / "out", "--timeout", "60")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("1 notebook(s) passed in ")
    shown = outputs(nbformat.read(tmp_path / "out" / "hugo.ipynb", as_version=4))
    assert shown[2].count(str(tmp_path / "workshop" / "exercises")) == 2  # both terminals
    assert "<h1>The exercise site</h1>" in shown[3]  # ~/exercises/site/index.html
    assert f"Serving HTTP on 127.0.0.1 port {port}" in shown[4]
    assert "<h1>The exercise site</h1>" in shown[5]  # curl, from terminal 2
    assert "opens in a JupyterLab tab, at proxy/" in shown[6]  # dashboard:open-url
    assert shown[7].strip() == "Hello from the summary"
    assert shown[8] == ">>> "  # python3 -q, --bg: ready once it waits at its prompt
    assert "the answer is 42\n>>> " in shown[9]
    assert shown[10] == "exit()\n"
    assert not servers_on(port)


@pytest.mark.kernel
def test_when_the_classic_workshop_runs_in_one_kernel_then_its_pages_share_terminals(
    tmp_path, port
):
    folder = tmp_path / "classic"
    converted = cli("convert", WORKSHOPS / "classic", "-o", folder, "--var", f"SERVER_PORT={port}")
    assert converted.returncode == 0, converted.stderr
    assert "warning: " in converted.stderr and "--var session_namespace=VALUE" in converted.stderr
    assert "typed into busy terminal 1: it runs after the interrupt" in converted.stderr

    run = cli("run", "--one-kernel", folder, "--output-dir", tmp_path / "out", "--timeout", "60")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("4 notebook(s) passed in ")
    typed = outputs(nbformat.read(tmp_path / "out" / "03-exercises-02-typed-ahead.ipynb", 4))
    assert "Keyboard interrupt received" in typed[3]  # the first server, stopped
    assert f"Serving HTTP on 127.0.0.1 port {port}" in typed[4]  # the one typed ahead
    assert typed[5].strip() == "hello from the exercises"  # served from ~/exercises/hello
    assert not servers_on(port)


def test_when_a_variable_is_not_name_equals_value_then_convert_refuses(tmp_path):
    run = cli("convert", WORKSHOPS / "hugo", "-o", tmp_path / "x.ipynb", "--var", "nothing")
    assert run.returncode == 2
    assert run.stderr.strip().endswith("--var 'nothing': give NAME=VALUE")
