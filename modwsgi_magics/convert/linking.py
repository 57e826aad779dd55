"""Linking a workshop's pages: the terminals lived through, click by click.

A notebook cell must return where a click on the original platform did not,
and a click lands in whatever its terminal is doing at that moment. So the
pages are read in order, as the terminals would live through them, and:

* a command is a **server** (``--bg``) when something shows it still runs:
  a later interrupt of its terminal; another terminal, or a browser URL,
  using its port (then ``--wait-url http://localhost:PORT/`` when the port is
  a number); or a command typed into its terminal while it is a well-known
  server (:mod:`.servers`). A server never interrupted simply runs on until
  the kernel ends;
* an **interrupt** belongs to the command running in that terminal at that
  moment. A command typed into a terminal still busy with a server is typed
  ahead, as Educates types it: it runs after the interrupt that stops the
  server, and a note says so where it was and where it runs. Typed ahead with
  nothing stopping the server, it never runs (a visible note);
* ``terminal:input`` for a terminal whose last command still waits for it
  becomes that command's ``--input`` (typed ahead, as a learner answering the
  prompt); input for a ``--bg`` command stays a ``%terminal input`` cell;
  input with Enter to an idle terminal is a command typed at its prompt;
* ``terminal:clear`` becomes ``--clear`` of that terminal's next command;
* a command that starts an **interactive program** (a REPL, ``docker run -it
  IMAGE sh``, ``ssh host``, ``psql``, a nested shell: :mod:`.interactive`) is
  ``--bg``, and the blocks after it for that terminal, up to the one that
  exits, are typed into that program (input with Enter too); an interrupt
  leaves it running, at its prompt.

Pages are linked as one workshop even when each becomes its own notebook, so a
server started on one page and stopped on the next is still ``--bg``.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

import yaml

from ..syntax import TERMINALS, escape, execute_magic
from .actions import Clear, Command, Input, Interrupt, Markdown, Note, OpenUrl, Step
from .interactive import ends_interactive, starts_interactive
from .servers import first_line, listens_on, runs_until_stopped, uses

#: Note actions whose ``url`` a browser opens: their port is in use.
_BROWSER_ACTIONS = (
    "dashboard:open-url",
    "dashboard:create-dashboard",
    "dashboard:reload-dashboard",
)


@dataclass
class _Terminal:
    """What a terminal is doing: its latest command, and whether that is known
    to be still running."""

    last: Command | None = None
    busy: bool = False
    program: Command | None = None  # an interactive program the next commands go to


@dataclass
class _TypedAhead:
    """A command typed into busy terminals: it runs once all of them are stopped."""

    command: Command
    waiting_for: set[str]
    servers: dict[str, Command]
    placeholder: Markdown
    page: str


@dataclass
class _Pages:
    """A page's name (for messages) and the steps being written for it."""

    names: list[str]
    steps: list[list[Step]]
    log: list[str] = field(default_factory=list)


def link_steps(names: list[str], pages: list[list[Step]]) -> tuple[list[list[Step]], list[str]]:
    """The steps of each page, linked (see the module doc), and a log line per
    command that was typed ahead. The steps given are left as they were."""
    pages = copy.deepcopy(pages)
    linker = _Linker(_Pages(names, [[] for _ in pages]))
    for number, steps in enumerate(pages):
        linker.page = number
        for step in steps:
            linker.step(step)
    linker.finish()
    out = linker.pages.steps
    return _resolve(out, linker.targets), linker.pages.log


class _Linker:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.page = 0
        self.terminals: defaultdict[str, _Terminal] = defaultdict(_Terminal)
        self.queue: list[_TypedAhead] = []
        self.targets: dict[int, Command | None] = {}

    def emit(self, step: Step) -> None:
        self.pages.steps[self.page].append(step)

    def step(self, step: Step) -> None:
        if isinstance(step, Input) and _is_typed(step):
            state = self.terminals[step.terminal]
            if state.last is None or state.program is not None:
                step = _typed_command(step)
        if isinstance(step, Command):
            self.command(step)
        elif isinstance(step, Interrupt):
            self.interrupt(step)
        elif isinstance(step, Input):
            self.targets[id(step)] = self.terminals[step.terminal].last
            self.emit(step)
        else:
            if isinstance(step, Note) and step.action in _BROWSER_ACTIONS:
                self.used(step.body, ())
            elif isinstance(step, OpenUrl):
                self.used(step.url, ())
            self.emit(step)

    def command(self, command: Command, moved: bool = False) -> None:
        if self.typed_into_program(command):
            return
        self.used(command.command, command.terminals)
        busy = {t: self.terminals[t].last for t in command.terminals if self.is_busy(t)}
        servers = {t: server for t, server in busy.items() if server is not None}
        if servers:
            for server in servers.values():
                server.background = True
            where = " and ".join(sorted(servers))
            running = "; ".join(f"`{first_line(s.command)}`" for s in servers.values())
            placeholder = Markdown(
                f"*The command below, `{first_line(command.command)}`, is typed into terminal "
                f"{where} while {running} still runs there: as on the original platform, it "
                "runs once that is interrupted, further down.*"
            )
            self.emit(placeholder)
            self.queue.append(
                _TypedAhead(command, set(servers), servers, placeholder, self._name())
            )
            return
        if moved:
            self.emit(
                Markdown(
                    f"*Typed ahead earlier, while the terminal was busy: `"
                    f"{first_line(command.command)}` runs now.*"
                )
            )
        program = (
            command if len(command.terminals) == 1 and starts_interactive(command.command) else None
        )
        if program is not None:
            program.background = True  # ready once it waits for keyboard input
        for terminal in command.terminals:
            self.terminals[terminal] = _Terminal(command, program=program)
        self.emit(command)

    def typed_into_program(self, command: Command) -> bool:
        """A command for a terminal where an interactive program runs is typed
        into that program (the engine does so); its ``exit`` ends the program."""
        if len(command.terminals) != 1:
            return False
        state = self.terminals[command.terminals[0]]
        if state.program is None:
            return False
        if ends_interactive(command.command):
            self.terminals[command.terminals[0]] = _Terminal()
        self.emit(command)
        return True

    def interrupt(self, step: Interrupt) -> None:
        for terminal in step.terminals:
            state = self.terminals[terminal]
            if state.program is not None:
                continue  # Ctrl-C leaves a REPL or a shell at its prompt
            if state.last is not None:
                state.last.background = True
            self.terminals[terminal] = _Terminal()
        self.emit(step)
        released = []
        for typed in list(self.queue):
            typed.waiting_for -= set(step.terminals)
            if not typed.waiting_for:
                self.queue.remove(typed)
                released.append(typed)
        for typed in released:
            self.pages.log.append(
                f"{typed.page}:{typed.command.line}: `{first_line(typed.command.command)}` is "
                f"typed into busy terminal {' and '.join(sorted(typed.servers))}: it runs after "
                f"the interrupt at {self._name()}:{step.line}"
            )
            self.command(typed.command, moved=True)

    def is_busy(self, terminal: str) -> bool:
        state = self.terminals[terminal]
        if state.last is None:
            return False
        return state.busy or runs_until_stopped(state.last.command)

    def used(self, text: str, terminals: tuple[str, ...]) -> None:
        """``text``, run in ``terminals`` (none: a browser), uses these ports: a
        command still running in another terminal that listens there is a server."""
        for use in uses(text):
            for name, state in self.terminals.items():
                server = state.last
                if name in terminals or server is None:
                    continue
                ports = listens_on(server.command)
                if use.port in ports or (not ports and runs_until_stopped(server.command)):
                    state.busy = True
                    server.background = True
                    server.wait_url = server.wait_url or use.url

    def finish(self) -> None:
        """Commands typed ahead that nothing released never run: notes say so."""
        for typed in self.queue:
            running = "; ".join(f"`{first_line(s.command)}`" for s in typed.servers.values())
            where = " and ".join(sorted(typed.servers))
            note = Note(
                typed.command.magic,
                typed.command.command,
                f"it is typed into terminal {where} while {running} still runs there, and no "
                "later step stops that, so on the original platform it never runs",
                typed.command.line,
            )
            for steps in self.pages.steps:
                for index, step in enumerate(steps):
                    if step is typed.placeholder:
                        steps[index] = note
        self.queue = []

    def _name(self) -> str:
        return self.pages.names[self.page]


def _resolve(pages: list[list[Step]], targets: dict[int, Command | None]) -> list[list[Step]]:
    """Inputs to their commands, clears to the next command of their terminal."""
    pending: dict[str, Clear] = {}
    used: set[int] = set()
    out: list[list[Step]] = []
    for steps in pages:
        page: list[Step] = []
        for step in steps:
            if isinstance(step, Clear):
                pending.update(dict.fromkeys(step.terminals, step))
            elif isinstance(step, Command):
                consumed = [pending.pop(t) for t in step.terminals if t in pending]
                step.clear = step.clear or bool(consumed)
                used.update(id(clear) for clear in consumed)
            elif isinstance(step, Input):
                target = targets.get(id(step))
                if target is None:
                    step = _idle_input(step)
                elif not target.background:
                    target.input = (target.input or "") + step.text
                    step = _answered(step)
            page.append(step)
        out.append(page)
    return [
        [
            _unused_clear(step) if isinstance(step, Clear) else step
            for step in page
            if not (isinstance(step, Clear) and id(step) in used)
        ]
        for page in out
    ]


def _is_typed(step: Input) -> bool:
    """Input ending with Enter: at an idle prompt, it runs what it types."""
    return step.text.endswith("\n") and bool(step.text.strip())


def _answered(step: Input) -> Markdown:
    return Markdown(f"*`{escape(step.text)}` is typed into the waiting command above (`--input`).*")


def _typed_command(step: Input) -> Command:
    terminals = (step.terminal,)
    return Command(terminals, step.text.rstrip("\n"), execute_magic(terminals), step.line)


def _idle_input(step: Input) -> Note:
    session: int | str = int(step.terminal) if step.terminal.isdigit() else step.terminal
    body = yaml.safe_dump({"text": step.text, "session": session, "endl": False})
    reason = (
        f"nothing runs in terminal {step.terminal} to read it, and without Enter it runs "
        "nothing at the prompt"
    )
    return Note("terminal:input", body, reason, step.line)


def _unused_clear(step: Clear) -> Note:
    action = "terminal:clear-all" if step.terminals == TERMINALS else "terminal:clear"
    where = " or ".join(step.terminals)
    reason = f"no later command runs in terminal {where}, so there is nothing to clear"
    return Note(action, "", reason, step.line)
