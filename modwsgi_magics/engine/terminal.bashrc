# Start-up file of a modwsgi_magics terminal: an interactive bash on a pty.
# The protocol it speaks with the engine is described in protocol.py: the
# typed line `__modwsgi_magics_run SEQ MODE AHEAD [TEXT]; builtin source "$cell"`
# runs a cell at the shell's top level, and the FIFO gets a `begin` record
# when a cell starts and a `prompt` record at every prompt.

__modwsgi_magics_fifo=$MODWSGI_MAGICS_FIFO
__modwsgi_magics_cell=$MODWSGI_MAGICS_CELL
__modwsgi_magics_jobs=${MODWSGI_MAGICS_CELL%/*}/jobs
unset MODWSGI_MAGICS_FIFO MODWSGI_MAGICS_CELL PROMPT_COMMAND
set +o history
PS1=
PS2=

__modwsgi_magics_run() {
    __modwsgi_magics_seq=$1
    __modwsgi_magics_typed_ahead=${3#-}
    __modwsgi_magics_failed=
    __modwsgi_magics_errtrace=${-//[^E]/}
    # The begin record carries the 4th argument as bash expanded it (a
    # readiness URL naming the cell's $PORT, say).
    builtin printf 'begin\0%s\0\0\0\0\0%s\0' "$1" "${4-}" >"$__modwsgi_magics_fifo"
    if [[ $2 == strict ]]; then
        # Stop at the first failing command, as `set -e` would, but keep the
        # shell: `return` leaves the sourced cell, not bash. errtrace makes a
        # failure inside a function or subshell stop the cell too.
        builtin set -E
        builtin trap '{ __modwsgi_magics_error $? "$LINENO" && builtin return $__modwsgi_magics_status; } 2>/dev/null' ERR
    fi
    # The cell's own `set -x`, paused at the prompt (see below).
    [[ -z $__modwsgi_magics_options ]] || builtin set "-$__modwsgi_magics_options"
}

__modwsgi_magics_error() {
    __modwsgi_magics_status=$1
    # Name the line only for a failure at the cell's top level: a function's
    # body may come from an earlier cell, whose lines are not this cell's.
    if [[ -z $__modwsgi_magics_failed && ${FUNCNAME[1]-} == source
          && ${BASH_SOURCE[1]-} == "$__modwsgi_magics_cell" ]]; then
        __modwsgi_magics_failed="$1 $2"
    fi
    [[ -n ${FUNCNAME[1]-} ]]  # true inside the cell or a function, not at the prompt
}

__modwsgi_magics_prompt() {
    builtin local status=$?
    # The engine calls bash's builtins by `builtin NAME`, which a function of
    # the same name cannot replace; one switched off with `enable -n` is back.
    builtin enable source printf read trap set local return eval jobs 2>/dev/null
    builtin trap - ERR
    # Jobs that ended (`[1]+ Done ...`) are told now, with the command that
    # just ended, as a terminal prints them before its prompt; not new ones.
    builtin jobs -n >"$__modwsgi_magics_jobs"
    if [[ -s $__modwsgi_magics_jobs ]]; then
        while builtin read -r __modwsgi_magics_line; do
            [[ $__modwsgi_magics_line == *" Running "* ]] || builtin printf '%s\n' "$__modwsgi_magics_line"
        done <"$__modwsgi_magics_jobs"
    fi
    # Pause xtrace, so the engine's own lines do not show (bash itself keeps
    # `set -v` for the prompt; the engine hides the two lines that echoes).
    __modwsgi_magics_options=${-//[^x]/}
    builtin set +x
    [[ -n ${__modwsgi_magics_errtrace-} ]] || builtin set +E
    # Text typed ahead for the command (--input) and left unread must not run
    # as commands. Only then: a stray prompt (Ctrl-C on an idle shell) must
    # not eat the engine's next line.
    if [[ -n ${__modwsgi_magics_typed_ahead-} ]]; then
        while builtin read -r -t 0; do builtin read -r -t 1 __modwsgi_magics_unread || break; done
        __modwsgi_magics_typed_ahead=
    fi
    PS1=
    PS2=
    builtin printf 'prompt\0%s\0%s\0%s\0%s\0%s\0%s\0' "${__modwsgi_magics_seq:-0}" "$status" \
        "${__modwsgi_magics_failed-}" "$PWD" "${VIRTUAL_ENV-}" "$-" >"$__modwsgi_magics_fifo"
}

__modwsgi_magics_options=
# The hook must survive the cells: a cell that assigns PROMPT_COMMAND gets a
# clear "readonly variable" error instead of a terminal that never answers.
declare -r PROMPT_COMMAND='{ __modwsgi_magics_prompt; } 2>/dev/null'
declare -r __modwsgi_magics_fifo __modwsgi_magics_cell __modwsgi_magics_jobs
readonly -f __modwsgi_magics_run __modwsgi_magics_error __modwsgi_magics_prompt
