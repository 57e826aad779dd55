# shellcheck shell=bash
# Shared set-up for scripts/test.sh, scripts/test-lowest.sh and scripts/workshop.sh
# (sourced, not run).
#
# 1. The system packages a learner's machine needs to build and run mod_wsgi
#    (scripts/test.sh adds its own): installed with apt-get when we are root,
#    else named with the exact command.
# 2. A virtualenv with this project and the extras asked for ($1).
# 3. For a classroom (scripts/classroom.sh, the classroom tests): nftables, and
#    JupyterHub's configurable-http-proxy from npm, beside the virtualenv.
#    As root it lives in /opt/modwsgi-magics, readable by the unprivileged
#    `learner` account that runs the workshop (Apache refuses to serve as root).
#    Installing the project from source builds its JupyterLab extension (the
#    terminals panel, src/) with Node.js and jlpm, through the build hook in
#    pyproject.toml; a wheel from PyPI ships it built.
# 3. For the tests: Chromium (Debian's), which the browser tests drive.

set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEBIAN_PACKAGES=(apache2 apache2-dev python3 python3-venv python3-dev gcc curl tree procps openssl)
# Commands whose absence says a package is missing (with apxs' server, ensurepip, Python.h).
TOOLS=(apxs curl tree gcc ps openssl)
# What a classroom adds: the firewall that keeps learners off each other's ports,
# and Node.js for the hub's proxy (installed only where node or npm is missing).
CLASSROOM_DEBIAN_PACKAGES=(nftables)
NODE_DEBIAN_PACKAGES=(nodejs npm)

missing_tools() {
    local tool
    for tool in "${TOOLS[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || echo "$tool"
    done
    # The server itself, where apxs says it is (/usr/sbin is not on a user's PATH).
    if command -v apxs >/dev/null 2>&1; then
        [[ -x $(apxs -q SBINDIR)/$(apxs -q PROGNAME) ]] || echo "apache2"
    fi
    /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || echo python3-venv
    compgen -G '/usr/include/python3*/Python.h' >/dev/null || echo python3-dev
}

install_system_packages() {
    local missing packages=("${DEBIAN_PACKAGES[@]}")
    missing=$(missing_tools | tr '\n' ' ')
    [[ -z $missing ]] && return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing ${packages[*]} (missing: $missing)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    else
        echo "setup: missing $missing. mod_wsgi needs Apache's apxs and headers to build. Install with:" >&2
        echo "    sudo apt-get install -y ${packages[*]}" >&2
        exit 1
    fi
}

# make_venv EXTRAS [PIP_OPTION...]: the virtualenv $VENV (default: see above; or
# $MODWSGI_MAGICS_VENV) with this project and EXTRAS (e.g. test, or lab,convert).
# PIP_OPTIONs go to the install of the dependencies (e.g. --constraint FILE).
make_venv() {
    local extras=$1
    shift
    if [[ $(id -u) -eq 0 ]]; then
        VENV=${MODWSGI_MAGICS_VENV:-/opt/modwsgi-magics}
    else
        VENV=${MODWSGI_MAGICS_VENV:-$REPO/.venv}
    fi
    # The venv's own pip (Debian 12: 23.0.1) installs all of this: no pip upgrade
    # from the network on every run.
    [[ -x $VENV/bin/python ]] || /usr/bin/python3 -m venv "$VENV"
    need_node
    # Root installs a copy (the learner account cannot read /root); others edit in place.
    if [[ $(id -u) -eq 0 ]]; then
        "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$REPO"
        "$VENV/bin/python" -m pip install -q "$@" "${REPO}[$extras]"
        chmod -R a+rX "$VENV"
    else
        "$VENV/bin/python" -m pip install -q "$@" -e "${REPO}[$extras]"
    fi
    export MODWSGI_MAGICS_VENV=$VENV
}

# Node.js 18 or newer builds the JupyterLab extension from source.
need_node() {
    local major
    major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
    if [[ -n $major && $major -ge 18 ]]; then
        return 0
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing nodejs and npm (the JupyterLab extension is built from source)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    else
        echo "setup: building the JupyterLab extension needs Node.js 18 or newer. Install with:" >&2
        echo "    sudo apt-get install -y nodejs npm" >&2
        exit 1
    fi
}

# Debian's Chromium, for the browser tests (never a browser download of Playwright's).
install_chromium() {
    [[ -x /usr/bin/chromium ]] && return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "setup: installing chromium (the browser tests drive it)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends chromium >/dev/null
    else
        echo "setup: no /usr/bin/chromium: the browser tests will be skipped. Install with:" >&2
        echo "    sudo apt-get install -y chromium" >&2
    fi
}

ensure_learner() {
    [[ $(id -u) -eq 0 ]] || return 0
    id learner >/dev/null 2>&1 || useradd --create-home --shell /bin/bash learner
}

install_classroom_packages() {
    [[ $(id -u) -eq 0 ]] || { echo "classroom: run as root" >&2; exit 1; }
    local wanted=()
    command -v nft >/dev/null 2>&1 || wanted+=("${CLASSROOM_DEBIAN_PACKAGES[@]}")
    { command -v node && command -v npm; } >/dev/null 2>&1 || wanted+=("${NODE_DEBIAN_PACKAGES[@]}")
    [[ ${#wanted[@]} -eq 0 ]] && return 0
    echo "setup: installing ${wanted[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
}

install_proxy() {
    # JupyterHub's configurable-http-proxy, in $VENV/node (where the classroom looks first).
    local proxy=$VENV/node/node_modules/.bin/configurable-http-proxy
    [[ -x $proxy ]] && return 0
    echo "setup: installing configurable-http-proxy with npm"
    npm install --silent --no-fund --no-audit --prefix "$VENV/node" configurable-http-proxy >/dev/null
}
