#!/usr/bin/env bash
# The tests against the oldest releases pyproject.toml allows, so that its lower
# bounds stay true: a second virtualenv (/opt/modwsgi-magics-lowest as root, else
# .venv-lowest; or $MODWSGI_MAGICS_LOWEST_VENV) gets this project and its test extra
# with every lower bound pinned by scripts/lowest-constraints.txt (dependencies of
# dependencies take their newest releases that fit), then pytest runs the suite
# but the workshop tier, which builds mod_wsgi and tests the workshop, not the
# bounds. scripts/test.sh runs this after the main suite; extra arguments go to
# pytest.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_system_packages
if [[ $(id -u) -eq 0 ]]; then
    MODWSGI_MAGICS_VENV=${MODWSGI_MAGICS_LOWEST_VENV:-/opt/modwsgi-magics-lowest}
else
    MODWSGI_MAGICS_VENV=${MODWSGI_MAGICS_LOWEST_VENV:-$REPO/.venv-lowest}
fi
make_venv test --constraint "$REPO/scripts/lowest-constraints.txt"
cd "$REPO"
echo "test-lowest: $VENV ready in ${SECONDS}s, with the oldest releases allowed:"
"$VENV/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -iE '^(ipython|ipykernel|traitlets|psutil|nbformat|nbclient|jupyter.client|markdown.it.py|pyyaml)==' |
    tr '\n' ' '
echo
# The JupyterLab and JupyterHub sides (the server relay, the panel in Chromium, the
# classroom) need releases newer than the kernel side's bounds: the main run tests them.
exec "$VENV/bin/python" -m pytest -m "not workshop and not classroom and not browser" \
    --ignore tests/test_server.py --ignore tests/test_browser.py \
    --ignore tests/test_classroom.py "$@"
