#!/usr/bin/env bash
# Set up everything on a fresh machine, then open the workshop in JupyterLab.
# Extra arguments go to JupyterLab, e.g. `bash scripts/workshop.sh --no-browser`.
# The virtualenv also gets the `convert` extra, for `modwsgi-magics convert`.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ $(id -u) -eq 0 ]]; then
    echo "workshop: run this as your own user, not root: Apache refuses to serve as root." >&2
    echo "    (as root, 'bash scripts/test.sh' runs the workshop as the user 'learner')" >&2
    exit 1
fi
install_system_packages
make_venv lab,convert
cd "$REPO/notebooks"
exec "$VENV/bin/jupyter" lab 01-overview.ipynb "$@"
