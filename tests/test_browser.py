"""The terminals panel in a real JupyterLab, driven in Chromium by Playwright (issue #8).

JupyterLab runs as the unprivileged user ``learner`` when the suite runs as
root (Apache refuses to serve as root; a learner's server is no root's), from
this test's Python environment, on a free port with a token, with a fresh
HOME. Screenshots land in ``tests/artifacts/`` (git-ignored). The tests run in
order on one page, as a learner would go through a notebook.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from helpers import free_port, wait_until

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("MODWSGI_MAGICS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]


def notebook(path: Path, *sources: str) -> None:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, path)


class Lab:
    """A JupyterLab server of the learner's, and where it is."""

    def __init__(self, home: Path, port: int, token: str, process: subprocess.Popen[bytes]):
        self.home, self.port, self.token, self.process = home, port, token, process
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply)


def _account() -> tuple[int | None, int | None, str]:
    """Who runs JupyterLab: ``learner`` under root, else this user."""
    if os.getuid() != 0:
        return None, None, os.environ.get("USER", "")
    learner = pwd.getpwnam("learner")
    return learner.pw_uid, learner.pw_gid, "learner"


@pytest.fixture(scope="module")
def app_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def lab(app_port) -> Iterator[Lab]:
    uid, gid, _ = _account()
    home = Path(tempfile.mkdtemp(prefix="modwsgi-panel-home-"))
    work = home / "notebooks"
    work.mkdir()
    url = f"http://localhost:{app_port}/"
    notebook(
        work / "panel.ipynb",
        "%load_ext modwsgi_magics",
        f"%%execute1 --bg --wait-url {url}\npython3 -m http.server {app_port}",
        f"%%execute2\ncurl -s -o /dev/null -w 'status %{{http_code}}\\n' http://localhost:{app_port}/",
        "%%execute2 --expect 42\necho $TYPED",
        f"%%execute2\ncurl -s http://localhost:{app_port}/ >/dev/null || echo server-gone",
        "%%execute1\necho after-ctrl-c",
        f"%terminal open-url http://localhost:{app_port}/",
    )
    book = nbformat.read(work / "panel.ipynb", 4)
    book.cells.append(
        nbformat.v4.new_markdown_cell(
            f"[open the app](#modwsgi-magics-open-url=http://localhost:{app_port}/)"
        )
    )
    book.cells.append(nbformat.v4.new_code_cell("%terminal open"))
    book.cells.append(
        nbformat.v4.new_code_cell(
            "%%execute2\nprintf '\\033[31mred\\033[0m\\n'; printf ' 10%%\\r100%%\\n'"
        )
    )
    nbformat.write(book, work / "panel.ipynb")
    notebook(work / "other.ipynb", "%load_ext modwsgi_magics", "%%execute1\necho only-in-other")
    notebook(work / "plain.ipynb", "print('no terminals here')")
    settings = home / "lab-settings" / "@jupyterlab"
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the page
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    if uid is not None:
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid or -1)
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_"))}
    env.update(
        HOME=str(home),
        PATH=f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}",
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    env.pop("VIRTUAL_ENV", None)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "jupyterlab.log", "wb")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        command,
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        user=uid,
        group=gid,
        extra_groups=[] if uid is not None else None,
        start_new_session=True,
    )
    server = Lab(home, port, token, process)
    try:
        wait_until(lambda: _answers(server) or process.poll() is not None, timeout=60)
        assert process.poll() is None, (ARTIFACTS / "jupyterlab.log").read_text()[-3000:]
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def _answers(server: Lab) -> bool:
    try:
        server.get("/api/status")
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def page(lab) -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}")
        tab.locator(".jp-Notebook .jp-Cell").first.wait_for()
        wait_until(lambda: kernel_idle(tab), timeout=60)
        try:
            yield tab
        finally:
            tab.screenshot(path=ARTIFACTS / "panel-last.png")
            browser.close()


# -- helpers ---------------------------------------------------------------------


def kernel_idle(page) -> bool:
    """The visible notebook's kernel is up and idle (a kernel choice is accepted)."""
    choose = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-mod-accept")
    if choose.count():
        choose.click()
    bar = page.locator(".jp-StatusBar-Widget")  # "Python 3 (ipykernel) | Idle", not "No Kernel"
    return bar.count() > 0 and re.search(r"\) \| Idle", bar.first.inner_text()) is not None


def run_cell(page, index: int, timeout: float = 60) -> str:
    """Run cell ``index`` of the visible notebook; return its output text."""
    cells = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")
    cell = cells.nth(index).element_handle()  # the notebook may be hidden by a new tab
    prompt = cell.query_selector(".jp-InputPrompt")
    before = prompt.text_content()
    cell.query_selector(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")

    def done() -> bool:
        text = prompt.text_content() or ""
        return text != before and re.search(r"\[\d+\]", text) is not None

    wait_until(done, timeout=timeout)
    output = cell.query_selector(".jp-Cell-outputArea")
    return output.text_content() if output else ""


def screen(page, terminal: str) -> str:
    """Terminal ``terminal``'s whole buffer in the visible panel, as text."""
    return page.evaluate(
        """(name) => {
            const views = [...document.querySelectorAll(
                `.jp-ModwsgiMagics-view[data-terminal='${name}']`)]
                .filter(view => view.offsetParent !== null);
            return views.length ? views[0].modwsgiText() : '';
        }""",
        terminal,
    )


def shows(page, terminal: str, pattern: str, timeout: float = 20) -> str:
    wait_until(lambda: re.search(pattern, screen(page, terminal)), timeout=timeout)
    return screen(page, terminal)


def type_into(page, terminal: str, keys: str) -> None:
    page.locator(f".jp-ModwsgiMagics-view[data-terminal='{terminal}'] .xterm").last.click()
    page.keyboard.type(keys)


def snapshot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png")


# -- the tests, in a learner's order -------------------------------------------


def test_when_a_cell_first_uses_a_terminal_then_the_panel_opens_with_both(page, app_port):
    assert page.locator(".jp-ModwsgiMagics-panel").count() == 0
    run_cell(page, 0)
    assert page.locator(".jp-ModwsgiMagics-panel").count() == 0  # loading is not using
    output = run_cell(page, 1)
    assert "Traceback" not in output
    page.locator(".jp-ModwsgiMagics-panel").wait_for()
    top = shows(page, "1", rf"\$ python3 -m http.server {app_port}")
    assert "__modwsgi_magics" not in top
    out = run_cell(page, 2)
    assert "status 200" in out
    shows(page, "2", r"curl -s .*\n(.*\n)?status 200")
    shows(page, "1", r'"GET / HTTP/1.1" 200')  # the server's log, after its cell returned
    snapshot(page, "01-server-and-curl")


def test_when_shell_magics_are_in_cells_then_they_are_highlighted_as_shell(page):
    panel = page.locator(".jp-NotebookPanel:visible").first
    wait_until(lambda: (panel.get_attribute("data-modwsgi-magics-shell") or "0") == "6")
    assert "shell" not in (
        page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(0).get_attribute("class") or ""
    )
    # The shell mode tokenizes `$TYPED` as a variable: one span; Python's, two tokens.
    cell = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(3)
    assert cell.locator(".cm-line span:text-is('$TYPED')").count() == 1


def test_when_output_has_colours_and_carriage_returns_then_the_view_draws_them(page):
    run_cell(page, 9)
    lines = shows(page, "2", r"\nred\n100%\n").splitlines()
    row = lines.index("red")
    cell = page.evaluate(
        """(row) => {
            const view = document.querySelector(".jp-ModwsgiMagics-view[data-terminal='2']");
            const cell = view.modwsgiTerminal.buffer.active.getLine(row).getCell(0);
            return [cell.getChars(), cell.isFgPalette(), cell.getFgColor()];
        }""",
        row,
    )
    assert cell == ["r", True, 1]  # red, as SGR 31 asked
    prompt = page.evaluate(
        """() => {
            const view = document.querySelector(".jp-ModwsgiMagics-view[data-terminal='2']");
            const cell = view.modwsgiTerminal.buffer.active.getLine(0).getCell(0);
            return [cell.getChars(), cell.getFgColor(), Boolean(cell.isBold())];
        }"""
    )
    assert prompt == ["~", 4, True]  # the prompt's folder in bold blue


def test_when_the_learner_types_into_terminal_2_then_cells_see_it(page):
    type_into(page, "2", "export TYPED=42")
    page.keyboard.press("Enter")
    shows(page, "2", r"\$ export TYPED=42\n.*\$ ")
    output = run_cell(page, 3)
    assert output.strip() == "42"
    snapshot(page, "02-typed-into-terminal-2")


def test_when_ctrl_c_is_pressed_in_terminal_1_then_the_server_stops(page):
    type_into(page, "1", "")
    page.keyboard.press("Control+c")
    shows(page, "1", r"Keyboard interrupt received")
    assert "server-gone" in run_cell(page, 4)
    assert "after-ctrl-c" in run_cell(page, 5)
    shows(page, "1", r"\$ echo after-ctrl-c\nafter-ctrl-c\n")
    snapshot(page, "03-after-ctrl-c")


def test_when_open_url_runs_then_the_app_opens_in_a_tab_through_the_proxy(page, app_port):
    run_cell(page, 1)  # the server again
    run_cell(page, 6)
    frame = page.frame_locator(".jp-ModwsgiMagics-app iframe")
    frame.locator("text=Directory listing").first.wait_for()
    snapshot(page, "04-app-in-a-tab")
    close_current_tab(page)
    page.locator(".jp-NotebookPanel:visible a:has-text('open the app')").click()
    frame.locator("text=Directory listing").first.wait_for()
    close_current_tab(page)
    assert page.locator(".jp-ModwsgiMagics-app").count() == 0


def close_current_tab(page) -> None:
    page.locator(".jp-ModwsgiMagics-app").first.wait_for()
    tab = page.locator(".lm-TabBar-tab.lm-mod-current:has-text('localhost:')")
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    wait_until(lambda: page.locator(".jp-ModwsgiMagics-app").count() == 0)


def test_when_the_panel_is_closed_then_the_button_and_terminal_open_bring_it_back(page):
    for reopen in ("button", "magic"):
        tab = page.locator(".lm-TabBar-tab:has-text('Terminals: panel.ipynb')")
        tab.locator(".lm-TabBar-tabCloseIcon").click()
        wait_until(lambda: page.locator(".jp-ModwsgiMagics-panel").count() == 0)
        if reopen == "button":
            page.locator(".jp-NotebookPanel:visible .jp-ModwsgiMagics-toolbarButton").click()
        else:
            run_cell(page, 8)
        page.locator(".jp-ModwsgiMagics-panel").wait_for()
        shows(page, "2", r"export TYPED=42")  # the scrollback, replayed
    snapshot(page, "05-reopened")


def test_when_the_page_reloads_then_the_panel_comes_back_with_its_scrollback(page, app_port):
    time.sleep(1.5)  # JupyterLab saves its layout a moment after a change
    page.reload()
    page.locator(".jp-ModwsgiMagics-panel").wait_for()
    shows(page, "1", r"echo after-ctrl-c\nafter-ctrl-c")
    shows(page, "2", r"export TYPED=42")
    snapshot(page, "06-after-reload")


def test_when_the_kernel_restarts_then_fresh_terminals_are_shown(page, lab):
    page.locator(".jp-NotebookPanel:visible .jp-Cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("0")
    page.keyboard.press("0")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    shows(page, "1", r"kernel restarts")
    wait_until(lambda: kernel_idle(page), timeout=60)
    run_cell(page, 0)
    run_cell(page, 5)
    text = shows(page, "1", r"after-ctrl-c\n.*\$\s*$")
    assert "http.server" not in text  # a fresh terminal, not the old scrollback
    snapshot(page, "07-after-restart")


def open_notebook(page, lab, name: str, text: str) -> None:
    """Open notebook ``name`` (one of whose cells holds ``text``) from the file browser."""
    page.locator(f".jp-DirListing-item:has-text('{name}')").dblclick()
    page.locator(f".jp-NotebookPanel:visible .jp-Cell:has-text('{text}')").first.wait_for()
    wait_until(lambda: kernel_idle(page), timeout=60)


def test_when_several_notebooks_are_open_then_each_shows_its_own_terminals(page, lab):
    open_notebook(page, lab, "other.ipynb", "only-in-other")
    run_cell(page, 0)
    run_cell(page, 1)
    wait_until(lambda: page.locator(".jp-ModwsgiMagics-panel").count() == 2)
    panels = page.locator(".jp-ModwsgiMagics-view[data-terminal='1']")
    texts = [panels.nth(i).evaluate("v => v.modwsgiText()") for i in range(panels.count())]
    assert sum("only-in-other" in text for text in texts) == 1
    assert sum("after-ctrl-c" in text for text in texts) == 1
    assert all(text.count("$ echo") == 1 for text in texts)  # each shown once
    open_notebook(page, lab, "plain.ipynb", "no terminals here")
    run_cell(page, 0)
    time.sleep(1)
    assert page.locator(".jp-ModwsgiMagics-panel").count() == 2  # none for plain.ipynb
    snapshot(page, "08-several-notebooks")
    page.locator(".jp-NotebookPanel:visible .jp-Cell").first.click()  # the current notebook
    page.keyboard.press("Control+Shift+c")  # the command palette
    page.keyboard.type("Show Terminals of the Notebook Kernel")
    page.keyboard.press("Enter")
    wait_until(lambda: page.locator(".jp-ModwsgiMagics-panel").count() == 3)
    wait_until(  # asked for, it says why it is empty
        lambda: page.evaluate(
            """() => [...document.querySelectorAll(".jp-ModwsgiMagics-view")]
                .some(view => view.modwsgiText().includes('no terminals in this kernel yet'))"""
        )
    )
    tab = page.locator(".lm-TabBar-tab:has-text('Terminals: plain.ipynb')")
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    wait_until(lambda: page.locator(".jp-ModwsgiMagics-panel").count() == 2)


def test_when_the_theme_turns_dark_then_so_do_the_terminals(page):
    page.locator(".lm-MenuBar-itemLabel:text-is('Settings')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Theme')").hover()
    page.locator(".lm-Menu-itemLabel:text-is('JupyterLab Dark')").click()
    wait_until(
        lambda: page.evaluate(
            """() => [...document.querySelectorAll(".jp-ModwsgiMagics-view")]
                .every(view => view.modwsgiTerminal.options.theme.background === '#000')"""
        )
    )
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    snapshot(page, "09-dark-theme")
