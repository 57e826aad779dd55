#!/usr/bin/env bash
# Set up everything on a fresh machine, then run the linter and the tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k engine -x`.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_system_packages
install_chromium
make_venv test
ensure_learner
cd "$REPO"
"$VENV/bin/ruff" check .
exec "$VENV/bin/python" -m pytest "$@"
