#!/usr/bin/env bash
# Set up everything on a fresh machine, then run the linters and the tests:
#   1. ruff check, ruff format --check, shellcheck;
#   2. the whole suite, with the newest releases pyproject.toml allows;
#   3. scripts/test-lowest.sh: the suite but tests/test_workshop.py, in a second
#      virtualenv, with the oldest releases pyproject.toml allows
#      (MODWSGI_MAGICS_SKIP_LOWEST=1 skips this step).
# Extra arguments go to pytest, both runs, e.g. `bash scripts/test.sh -k engine -x`.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Debian packages the tests need beyond a learner's, each named after its command.
TEST_DEBIAN_PACKAGES=(shellcheck)
DEBIAN_PACKAGES+=("${TEST_DEBIAN_PACKAGES[@]}")
TOOLS+=("${TEST_DEBIAN_PACKAGES[@]}")
install_system_packages
install_chromium
if [[ $(id -u) -eq 0 ]]; then install_classroom_packages; fi
make_venv test,test-lab,classroom
if [[ $(id -u) -eq 0 ]]; then install_proxy; fi
ensure_learner
cd "$REPO"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
shellcheck scripts/*.sh .ci/run
# This machine has Apache's apxs now: a workshop tier that cannot run must fail, never skip.
export MODWSGI_MAGICS_REQUIRE_WORKSHOP=1
"$VENV/bin/python" -m pytest "$@"
if [[ ${MODWSGI_MAGICS_SKIP_LOWEST:-0} != 1 ]]; then
    exec bash scripts/test-lowest.sh "$@"
fi
