# Start-up file of a modwsgi_magics terminal: an interactive bash on a pty.
#
# The engine types one short line per cell, `__modwsgi_magics_run SEQ MODE`,
# which sources the cell's text from a private 0700 folder. bash itself parses
# the text, so heredocs, long lines and unclosed quotes behave as in a script,
# and nothing after the typed line sits in the terminal for a command to read.
#
# The end of a command is reported out of band: PROMPT_COMMAND writes a record
# (sequence, exit status, failing status and line, cwd, virtualenv) into a FIFO
# of that folder. The terminal's output carries no marker that output could fake.

__modwsgi_magics_fifo=$MODWSGI_MAGICS_FIFO
__modwsgi_magics_cell=$MODWSGI_MAGICS_CELL
unset MODWSGI_MAGICS_FIFO MODWSGI_MAGICS_CELL PROMPT_COMMAND
set +o history
PS1=
PS2=

__modwsgi_magics_run() {
    __modwsgi_magics_seq=$1
    __modwsgi_magics_failed=
    if [[ $2 == strict ]]; then
        # Stop at the first failing command, as `set -e` would, but keep the
        # shell: `return` leaves the sourced cell, not bash. The first failure
        # inside the cell file names the line; later ones are its echoes.
        trap '__modwsgi_magics_error $? "$LINENO" && return $__modwsgi_magics_status' ERR
    fi
    source "$__modwsgi_magics_cell"
}

__modwsgi_magics_error() {
    __modwsgi_magics_status=$1
    if [[ -z $__modwsgi_magics_failed && ${BASH_SOURCE[1]-} == "$__modwsgi_magics_cell" ]]; then
        __modwsgi_magics_failed="$1 $2"
    fi
    [[ -n ${FUNCNAME[1]-} ]]  # true inside the cell or the run function, not at the prompt
}

__modwsgi_magics_prompt() {
    local status=$?
    trap - ERR
    PS1=
    PS2=
    printf '%s\0%s\0%s\0%s\0%s\0' "${__modwsgi_magics_seq:-0}" "$status" \
        "${__modwsgi_magics_failed-}" "$PWD" "${VIRTUAL_ENV-}" >"$__modwsgi_magics_fifo"
}
PROMPT_COMMAND=__modwsgi_magics_prompt
