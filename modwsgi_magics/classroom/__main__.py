"""``python -m modwsgi_magics.classroom start|stop|wheel|remove``: the hub's launcher.

``scripts/classroom.sh`` calls it once everything is installed; settings come
from ``CLASSROOM_*`` environment variables (``settings.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import accounts
from .claims import Claims
from .errors import HubError
from .launcher import (
    announce,
    build_wheel,
    run_foreground,
    start_background,
    stop,
    with_password,
)
from .settings import Settings


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m modwsgi_magics.classroom")
    verbs = top.add_subparsers(dest="verb", required=True)
    start = verbs.add_parser("start", help="start the hub (in the foreground unless --background)")
    start.add_argument("--background", action="store_true", help="return once the hub answers")
    for verb in (start, verbs.add_parser("stop", help="stop the hub of --pid-file")):
        verb.add_argument("--pid-file", type=Path, help="default: STATE_DIR/classroom.pid")
    start.add_argument("--log", type=Path, help="with --background; default: STATE_DIR/hub.log")
    verbs.add_parser("wheel", help="build the wheel of mod_wsgi the learners share")
    remove = verbs.add_parser("remove", help="remove learners' accounts, homes and names")
    remove.add_argument("names", nargs="+")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = with_password(Settings.from_environ())
    pid_file = getattr(args, "pid_file", None) or settings.state_dir / "classroom.pid"
    if args.verb == "wheel":
        wheel = build_wheel(settings)
        print(f"classroom: learners install {wheel}" if wheel else "classroom: no python3 found")
        return 0 if wheel else 1
    if args.verb == "stop":
        for line in stop(settings, pid_file):
            print(f"classroom: had to kill {line}")
        return 0
    if args.verb == "remove":
        for name in args.names:
            accounts.remove(name, settings.group)
            Claims(settings.state_dir / "claims.json").release(name)
        return 0
    if not args.background:
        print(announce(settings), flush=True)
        return run_foreground(settings)
    try:
        pid = start_background(settings, pid_file, args.log or settings.state_dir / "hub.log")
    except HubError as err:
        print(f"classroom: {err}", file=sys.stderr)
        return 1
    print(announce(settings))
    print(f"The hub runs as pid {pid} ({pid_file}); stop it: bash scripts/classroom.sh stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
