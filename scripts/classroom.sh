#!/usr/bin/env bash
# Run the workshop for a class on this server: JupyterHub, as root.
#
#   bash scripts/classroom.sh                # set up, then run the hub until Ctrl-C
#   bash scripts/classroom.sh --background   # set up, start the hub, return once it answers
#   bash scripts/classroom.sh stop           # stop a hub started with --background
#
# Settings (environment): CLASSROOM_PASSWORD (the workshop password; generated and
# printed when unset), CLASSROOM_PORT (8600), CLASSROOM_IDLE_TIMEOUT (seconds, 3600;
# 0: never), CLASSROOM_STATE_DIR (/var/lib/modwsgi-classroom), and the others in
# modwsgi_magics/classroom/settings.py.
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ $(id -u) -ne 0 ]]; then
    echo "classroom: run as root: it creates an account for each learner and firewall rules" >&2
    exit 1
fi
export CLASSROOM_STATE_DIR=${CLASSROOM_STATE_DIR:-/var/lib/modwsgi-classroom}
if [[ ${1:-} == stop ]]; then
    VENV=${MODWSGI_MAGICS_VENV:-/opt/modwsgi-magics}
    exec "$VENV/bin/python" -m modwsgi_magics.classroom stop
fi
install_system_packages
install_classroom_packages
make_venv classroom
install_proxy
# The notebooks every learner's copy is made from (a learner's own copy is never replaced).
mkdir -p "$CLASSROOM_STATE_DIR"
chmod 0700 "$CLASSROOM_STATE_DIR"
rm -rf "$CLASSROOM_STATE_DIR/notebooks"
cp -r "$REPO/notebooks" "$CLASSROOM_STATE_DIR/notebooks"
# mod_wsgi compiled once for the class: chapter 3's `pip3 install mod_wsgi` installs it.
"$VENV/bin/python" -m modwsgi_magics.classroom wheel
exec "$VENV/bin/python" -m modwsgi_magics.classroom start "$@"
