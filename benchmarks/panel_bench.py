"""The terminals panel against JupyterLab's own terminal, in one JupyterLab, one run.

    python3 benchmarks/panel_bench.py [--keys 200] [--lines 100000]

Starts JupyterLab (as the user ``learner`` when run as root, as the browser
tests do) with the app exposed to the page, opens a notebook whose kernel
starts its terminals, opens a JupyterLab terminal beside it, and measures in
headless Chromium (Debian's ``/usr/bin/chromium``):

* keystroke to echo: one key at a time, ``term.input(key)`` on the xterm.js
  of each (what a keypress does after the key event) until xterm has parsed
  the echoed key; median, 90th percentile and max over ``--keys`` keys;
* ``seq N`` typed into each: from Enter until the last line and the next
  prompt are drawn; meanwhile a 10 ms timer on the page measures how long
  the page's main thread was held at most (the page stays responsive when
  that stays short), and long tasks (over 50 ms) are counted.

A benchmark, not a test: it prints a table and exits 0 unless it failed to run.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# In the page: the xterm.js of the panel's terminal 1, or of JupyterLab's terminal.
FIND_XTERM = """
(which) => {
  if (which === 'panel') {
    return document.querySelector(".jp-ModwsgiMagics-view[data-terminal='1']").modwsgiTerminal;
  }
  for (const widget of window.jupyterapp.shell.widgets('main')) {
    const term = widget.content && widget.content._term;
    if (term && widget.content.session) { return term; }
  }
  return null;
}
"""

KEY_LATENCIES = """
async ([which, keys]) => {
  const term = (FIND_XTERM)(which);
  const times = [];
  for (const key of keys) {
    const start = performance.now();
    await new Promise(resolve => {
      const parsed = term.onWriteParsed(() => {
        const buffer = term.buffer.active;
        const line = buffer.getLine(buffer.baseY + buffer.cursorY);
        if (line && line.translateToString(true).trimEnd().endsWith(key.marker)) {
          parsed.dispose();
          resolve();
        }
      });
      term.input(key.key, true);
    });
    times.push(performance.now() - start);
    if (key.clear) {
      term.input('\\x15', true);
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }
  return times;
}
""".replace("FIND_XTERM", FIND_XTERM)

DRAW_LINES = """
async ([which, lines]) => {
  const term = (FIND_XTERM)(which);
  let longest = 0, longTasks = 0, last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  const observer = new PerformanceObserver(list => { longTasks += list.getEntries().length; });
  try { observer.observe({ entryTypes: ['longtask'] }); } catch (e) {}
  const start = performance.now();
  const target = String(lines);
  await new Promise(resolve => {
    const parsed = term.onWriteParsed(() => {
      const buffer = term.buffer.active;
      const cursor = buffer.getLine(buffer.baseY + buffer.cursorY);
      const above = buffer.getLine(buffer.baseY + buffer.cursorY - 1);
      if (cursor && above && above.translateToString(true).trim() === target
          && /\\$ ?$/.test(cursor.translateToString(true).trimEnd())) {
        parsed.dispose();
        resolve();
      }
    });
    term.input('seq ' + lines + '\\r', true);
  });
  await new Promise(resolve => requestAnimationFrame(() => resolve()));
  const elapsed = performance.now() - start;
  clearInterval(tick);
  observer.disconnect();
  return { elapsed, longest, longTasks };
}
""".replace("FIND_XTERM", FIND_XTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """JupyterLab on a free port, as ``learner`` under root; returns it and its URL."""
    work = home / "notebooks"
    work.mkdir()
    cells = ["%load_ext modwsgi_magics", "%%execute1\ntrue"]
    notebook = {
        "cells": [
            {"cell_type": "code", "source": s, "metadata": {}, "outputs": []}
            | {"execution_count": None}
            for s in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (work / "bench.ipynb").write_text(json.dumps(notebook))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    user = group = None
    if os.getuid() == 0:
        learner = pwd.getpwnam("learner")
        user, group = learner.pw_uid, learner.pw_gid
        for path in [home, *home.rglob("*")]:
            os.chown(path, user, group)
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_"))}
    env.update(HOME=str(home), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"))
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '/usr/bin:/bin')}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
        ],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=user,
        group=group,
        extra_groups=[] if user is not None else None,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).close()
            return process, f"{url}/lab/tree/bench.ipynb?token={token}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("JupyterLab did not start within 60 s")


def keys(count: int) -> list[dict[str, object]]:
    """Random letters; every 40th clears the line again (Ctrl-U)."""
    letters = [secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(count)]
    typed, out = "", []
    for index, letter in enumerate(letters):
        typed += letter
        clear = (index + 1) % 40 == 0 or index == count - 1
        out.append({"key": letter, "marker": typed[-12:], "clear": clear})
        if clear:
            typed = ""
    return out


def progress(text: str) -> None:
    print(f"panel_bench: {text}", file=sys.stderr, flush=True)


def measure(page, which: str, count: int, lines: int) -> dict[str, float]:
    progress(f"{which}: {count} keys")
    times = page.evaluate(KEY_LATENCIES, [which, keys(count)])
    progress(f"{which}: seq {lines}")
    drawn = page.evaluate(DRAW_LINES, [which, lines])
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[int(len(times) * 0.9) - 1],
        "max": times[-1],
        "seq": drawn["elapsed"],
        "longest": drawn["longest"],
        "long_tasks": drawn["longTasks"],
    }


def run(count: int, lines: int) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="panel-bench-"))
    lab, url = start_lab(home)
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(120_000)
            progress("JupyterLab is up; opening the notebook")
            page.goto(url)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.started !== undefined")
            page.locator(".jp-StatusBar-Widget:has-text(') | Idle')").wait_for()
            for index in range(2):
                cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
                cell.locator(".jp-InputArea-editor").click()
                page.keyboard.press("Shift+Enter")
                page.wait_for_function(
                    "(i) => /\\[\\d+\\]/.test(document.querySelectorAll("
                    "'.jp-Notebook .jp-Cell')[i].querySelector('.jp-InputPrompt').textContent)",
                    arg=index,
                )
            page.wait_for_function(
                "document.querySelector(\".jp-ModwsgiMagics-view[data-terminal='1']\")"
                " && document.querySelector(\".jp-ModwsgiMagics-view[data-terminal='1']\")"
                ".modwsgiText().includes('$ true')"
            )
            progress("the panel shows terminal 1; opening a JupyterLab terminal")
            page.evaluate("window.jupyterapp.commands.execute('terminal:create-new')")
            page.wait_for_function(f"({FIND_XTERM})('lab') !== null")
            page.wait_for_function(
                f"({FIND_XTERM})('lab').buffer.active.getLine(0).translateToString(true)"
                ".includes('$')"
            )
            results = {
                "panel": measure(page, "panel", count, lines),
                "JupyterLab terminal": measure(page, "lab", count, lines),
            }
            browser.close()
        return results
    finally:
        lab.send_signal(signal.SIGTERM)
        try:
            lab.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200, help="keys to time (default 200)")
    parser.add_argument("--lines", type=int, default=100000, help="lines of seq (default 100000)")
    args = parser.parse_args()
    # A SIGTERM (`timeout`) ends the run through its `finally`: JupyterLab goes too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    results = run(args.keys, args.lines)
    print(f"| measure | {' | '.join(results)} |")
    print(f"|---|{'---|' * len(results)}")
    rows = [
        (f"keystroke to echo, median of {args.keys}", "median", "{:.1f} ms"),
        ("keystroke to echo, 90th percentile", "p90", "{:.1f} ms"),
        ("keystroke to echo, max", "max", "{:.1f} ms"),
        (f"`seq {args.lines}` typed: until drawn", "seq", "{:.0f} ms"),
        ("  meanwhile, the page's longest stall", "longest", "{:.0f} ms"),
        ("  meanwhile, long tasks (> 50 ms)", "long_tasks", "{:.0f}"),
    ]
    for label, key, form in rows:
        print(f"| {label} | {' | '.join(form.format(r[key]) for r in results.values())} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
