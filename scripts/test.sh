#!/usr/bin/env bash
# Set up everything on a fresh machine, then run the linter and the tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k engine -x`.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_system_packages
if [[ $(id -u) -eq 0 ]]; then install_classroom_packages; fi
make_venv test,classroom
if [[ $(id -u) -eq 0 ]]; then install_proxy; fi
ensure_learner
cd "$REPO"
"$VENV/bin/ruff" check .
# This machine has Apache's apxs now: a workshop tier that cannot run must fail, never skip.
export MODWSGI_MAGICS_REQUIRE_WORKSHOP=1
exec "$VENV/bin/python" -m pytest "$@"
