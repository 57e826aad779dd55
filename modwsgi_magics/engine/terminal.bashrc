# Start-up file of a modwsgi_magics terminal: an interactive bash on a pty.
# The protocol it speaks with the engine is described in protocol.py: the
# typed line `__modwsgi_magics_run SEQ MODE AHEAD [TEXT]; builtin source "$cell"`
# runs a cell at the shell's top level, and the FIFO gets a `begin` record
# when a cell starts and a `prompt` record at every prompt.

__modwsgi_magics_fifo=$MODWSGI_MAGICS_FIFO
__modwsgi_magics_cell=$MODWSGI_MAGICS_CELL
__modwsgi_magics_jobs=${MODWSGI_MAGICS_CELL%/*}/jobs
__modwsgi_magics_traps=${MODWSGI_MAGICS_CELL%/*}/traps
unset MODWSGI_MAGICS_FIFO MODWSGI_MAGICS_CELL PROMPT_COMMAND
set +o history
PS1=
PS2=

__modwsgi_magics_run() {
    __modwsgi_magics_seq=$1
    __modwsgi_magics_typed_ahead=${3#-}
    __modwsgi_magics_failed=
    __modwsgi_magics_errtrace=${-//[^E]/}
    # `+end`: the cell file ends with `__modwsgi_magics_end`, which tells a
    # cell that ran to its end from one a top-level `return` left.
    __modwsgi_magics_ended=
    [[ $2 != *+end* ]] || __modwsgi_magics_ended=end
    # The begin record carries the 4th argument as bash expanded it (a
    # readiness URL naming the cell's $PORT, say).
    builtin printf 'begin\0%s\0\0\0\0\0%s\0' "$1" "${4-}" >"$__modwsgi_magics_fifo"
    __modwsgi_magics_strict=
    if [[ $2 == strict* ]]; then
        # Stop at the first failing command, as `set -e` would, but keep the
        # shell: `return` leaves the sourced cell, not bash. errtrace makes a
        # failure inside a function or subshell stop the cell too.
        builtin set -E
        __modwsgi_magics_save_err_trap
        builtin trap "$__modwsgi_magics_on_err" ERR
        # `plain`: no trap of the learner's to put back, none in the cell
        # (`+trap`: its text names `trap`), so the prompt just drops the engine's.
        __modwsgi_magics_strict=plain
        [[ -z $__modwsgi_magics_user_trap && $2 != *+trap* ]] || __modwsgi_magics_strict=careful
        # A `trap ... ERR` in the cell runs beside the engine's, which keeps
        # stopping the cell: `trap` is this wrapper until the prompt (unless
        # the learner has a function of that name).
        if [[ $2 == *+trap* ]] && ! builtin declare -F trap >/dev/null; then
            builtin local verbose=${-//[^v]/}
            [[ -z $verbose ]] || builtin set +v  # `set -v` would show the eval
            builtin eval "$__modwsgi_magics_trap_wrapper"
            [[ -z $verbose ]] || builtin set -v
            __modwsgi_magics_strict=wrapped
        fi
    fi
    # The cell's own `set -x`, paused at the prompt (see below).
    [[ -z $__modwsgi_magics_options ]] || builtin set "-$__modwsgi_magics_options"
}

# The ERR trap of a strict cell: record the failure, run the learner's own
# ERR trap (it sees the failure's $?), leave the cell.
__modwsgi_magics_on_err='{ __modwsgi_magics_error $? "$LINENO"; } 2>/dev/null
${__modwsgi_magics_chain:+builtin eval "$__modwsgi_magics_chain"}
{ __modwsgi_magics_stopping && builtin return $__modwsgi_magics_status; } 2>/dev/null'

__modwsgi_magics_error() {
    __modwsgi_magics_status=$1
    # Name the line only for a failure at the cell's top level: a function's
    # body may come from an earlier cell, whose lines are not this cell's.
    if [[ -z $__modwsgi_magics_failed && ${FUNCNAME[1]-} == source
          && ${BASH_SOURCE[1]-} == "$__modwsgi_magics_cell" ]]; then
        __modwsgi_magics_failed="$1 $2"
    fi
    # The learner's trap runs once per failure, not again when the cell's
    # `source` line fails at the prompt because of it.
    __modwsgi_magics_chain=
    [[ -z ${FUNCNAME[1]-} ]] || __modwsgi_magics_chain=$__modwsgi_magics_user_err
    builtin return "$1"
}

__modwsgi_magics_stopping() {
    [[ -n ${FUNCNAME[1]-} ]]  # true inside the cell or a function, not at the prompt
}

__modwsgi_magics_save_err_trap() {
    # The learner's own ERR trap, which the typed line wrote to a file (bash
    # hides it inside functions; $(trap -p) would cost a fork per cell).
    __modwsgi_magics_user_err= __modwsgi_magics_user_trap=
    [[ -s $__modwsgi_magics_traps ]] || builtin return 0
    builtin local text
    __modwsgi_magics_take_traps text
    __modwsgi_magics_learn_trap "$text"
}

__modwsgi_magics_learn_trap() {  # TEXT, as `trap -p ERR` prints it
    # Never the engine's own (a typed line that Ctrl-C threw away wrote none).
    [[ -n $1 && $1 != *__modwsgi_magics_error* ]] || builtin return 0
    __modwsgi_magics_user_trap=$1
    builtin eval "__modwsgi_magics_trap_command ${1#trap }"
}

__modwsgi_magics_take_traps() {  # VARIABLE
    # The scratch file's text into VARIABLE, and the file emptied: what the
    # file holds must never be read twice (a stale trap would come back).
    builtin read -r -d '' "$1" <"$__modwsgi_magics_traps" || :
    : >"$__modwsgi_magics_traps"
}

__modwsgi_magics_trap_command() {  # -- COMMAND ERR, as `trap -p` prints them
    __modwsgi_magics_user_err=$2
}

__modwsgi_magics_trap_wrapper='trap() {
    builtin trap "$@"
    builtin local status=$?
    __modwsgi_magics_retrap
    builtin return $status
}'

__modwsgi_magics_unwrap() {
    # The wrapper goes at the prompt; a `trap` function the cell defined stays.
    builtin declare -f trap >"$__modwsgi_magics_traps" 2>/dev/null
    builtin local body
    __modwsgi_magics_take_traps body
    [[ $body != *__modwsgi_magics_retrap* ]] || builtin unset -f trap
}

__modwsgi_magics_retrap() {
    # The cell changed the ERR trap: the new one is the learner's now, and
    # the engine's is back in front of it.
    builtin trap -p ERR >"$__modwsgi_magics_traps"
    builtin local now
    __modwsgi_magics_take_traps now
    [[ $now != *__modwsgi_magics_error* ]] || builtin return 0
    __modwsgi_magics_user_err= __modwsgi_magics_user_trap=
    __modwsgi_magics_learn_trap "$now"
    builtin trap "$__modwsgi_magics_on_err" ERR
}

__modwsgi_magics_restore_err_trap() {
    # Back at the prompt: the learner's ERR trap returns, unless the cell set
    # one of its own (or removed the engine's), which stays.
    builtin trap -p ERR >"$__modwsgi_magics_traps"
    builtin local now
    __modwsgi_magics_take_traps now
    [[ $now == *__modwsgi_magics_error* ]] || builtin return 0
    builtin trap - ERR
    [[ -z $__modwsgi_magics_user_trap ]] || builtin eval "$__modwsgi_magics_user_trap"
}

__modwsgi_magics_end() {  # STATUS LAST-WORD
    # The cell file's last line: the cell ran to its end. `$_` keeps the
    # cell's last word; the status is the cell's, read at the prompt.
    __modwsgi_magics_ended=$1
} 2>/dev/null

__modwsgi_magics_prompt() {
    builtin local status=$?
    # The engine calls bash's builtins by `builtin NAME`, which a function of
    # the same name cannot replace; one switched off with `enable -n` is back.
    builtin enable source printf read trap set local return eval jobs 2>/dev/null
    case $__modwsgi_magics_strict in
        plain) builtin trap - ERR ;;
        wrapped) __modwsgi_magics_unwrap; __modwsgi_magics_restore_err_trap ;;
        careful) __modwsgi_magics_restore_err_trap ;;
    esac
    case $__modwsgi_magics_ended in
        end)
            # The cell file's last line never ran, and nothing failed, no
            # syntax error (2), no signal (Ctrl-C): a `return` at the cell's
            # top level left it, which a prompt refuses. (-1: the engine
            # names the line.)
            if [[ -z $__modwsgi_magics_failed ]] && ((status != 2 && status < 128)); then
                builtin printf "bash: return: can only \`return' from a function or sourced script\n"
                [[ -z $__modwsgi_magics_strict ]] || __modwsgi_magics_failed="1 -1"
            fi ;;
        ?*) status=$__modwsgi_magics_ended ;;
    esac
    __modwsgi_magics_ended= __modwsgi_magics_strict=
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

__modwsgi_magics_options= __modwsgi_magics_strict= __modwsgi_magics_ended=
# The hook must survive the cells: a cell that assigns PROMPT_COMMAND gets a
# clear "readonly variable" error instead of a terminal that never answers.
declare -r PROMPT_COMMAND='{ __modwsgi_magics_prompt; } 2>/dev/null'
declare -r __modwsgi_magics_fifo __modwsgi_magics_cell __modwsgi_magics_jobs __modwsgi_magics_traps
declare -r __modwsgi_magics_on_err __modwsgi_magics_trap_wrapper
readonly -f __modwsgi_magics_run __modwsgi_magics_error __modwsgi_magics_prompt __modwsgi_magics_stopping \
    __modwsgi_magics_save_err_trap __modwsgi_magics_trap_command __modwsgi_magics_restore_err_trap \
    __modwsgi_magics_retrap __modwsgi_magics_unwrap __modwsgi_magics_take_traps __modwsgi_magics_learn_trap \
    __modwsgi_magics_end
