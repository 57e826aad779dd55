"""Which commands of a workshop are servers, and who uses them: pure text rules.

On the original platform a server is started by a click and keeps its
terminal busy; the learner then uses it from the other terminal (``curl
localhost:8000``) or the browser, and stops it with Ctrl-C, maybe much later,
maybe never. A notebook cell must return, so the converter has to tell a
server from a command that ends. Three kinds of evidence, in this module:

* :func:`uses`: the loopback addresses a command or a URL talks to
  (``localhost:8000``, ``127.0.0.1:$PORT``);
* :func:`listens_on`: the ports a command names (``--port 8000``,
  ``http.server "$PORT"``) or, for well-known servers given none, their
  default port (``mod_wsgi-express start-server``: 8000); none for a command
  that cannot be a server (:func:`could_listen`: a client such as ``curl``, a
  job that ends such as ``kubectl expose --port 8080`` or ``docker run -d``,
  anything sent to the background with ``&``);
* :func:`runs_until_stopped`: the command left running is a well-known
  foreground server or follower (``http.server``, ``start-server``,
  ``runserver``, ``tail -f``, ``kubectl port-forward`` ...), not sent to the
  background with ``&``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOOPBACK = r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])"
_PORT = r"(?:\d{1,5}|\$\{?[A-Za-z_]\w*\}?)"
_USE = re.compile(
    rf"(?:(?P<scheme>https?)://)?(?<![\w.-])(?P<host>{_LOOPBACK}):(?P<port>{_PORT})(?![\w}}])"
)
_PORT_WORD = re.compile(r"(?<![\w.$-])(\d{2,5}|\$\{?[A-Za-z_]\w*\}?)(?![\w.-])")

#: Well-known servers, the port each listens on when given none.
_DEFAULT_PORTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), port)
    for pattern, port in (
        (r"\bmod_wsgi-express\s+start-server\b", "8000"),
        (r"\b(?:http\.server|SimpleHTTPServer)\b", "8000"),
        (r"\bmanage\.py\s+runserver\b", "8000"),
        (r"\bflask\s+run\b", "5000"),
        (r"\b(?:uvicorn|gunicorn)\b", "8000"),
        (r"spring-boot:run\b|\bbootRun\b", "8080"),
        (r"\bhugo\s+server\b", "1313"),
        (r"\bjupyter\s+(?:lab|notebook)\b", "8888"),
    )
)
#: Commands that run until they are stopped (the last line of a cell counts).
_UNTIL_STOPPED = re.compile(
    r"\bmod_wsgi-express\s+start-server\b|\b(?:http\.server|SimpleHTTPServer)\b"
    r"|\bmanage\.py\s+runserver\b|\bflask\s+run\b|\buvicorn\b|\bgunicorn\b"
    r"|\bwaitress-serve\b|spring-boot:run\b|\bbootRun\b|\bhugo\s+server\b"
    r"|\bjupyter\s+(?:lab|notebook)\b|\b(?:npm|yarn|pnpm)\s+(?:run\s+)?(?:start|dev|serve)\b"
    r"|\bphp\s+-S\b|\btail\s+(?:-\w*f\w*|--follow)\b|\bkubectl\s+port-forward\b"
    r"|\bkubectl\s+(?:get|logs)\b.*\s(?:-w|--watch|-f|--follow)\b|\bwatch\s"
    r"|\bhttpd\b.*-D\s*FOREGROUND|\bnc\s+-\w*l"
)
_DETACHED = re.compile(
    r"&\s*$|^\s*(?:nohup|setsid|disown)\b|\s--(?:daemon|detach)\b"
    r"|\b(?:docker|podman)\s+(?:container\s+)?run\b.*\s-\w*d\w*\b|\bcompose\s+up\b.*\s-d\b"
)
#: Programs that do a job and end: a port they name is not one they listen on.
_ONE_SHOT = re.compile(
    r"^(?:kubectl|oc|helm|kapp|kctrl|ytt|kustomize|git|echo|printf|cat|ls|cd|export|sed|grep"
    r"|mkdir|cp|mv|rm|touch|chmod|pip3?|apt(?:-get)?|which|test|env|tree|ps|kill|pkill|sleep"
    r"|source|\.|tar|unzip|find|head|wc|jq|yq|openssl|ssh-keygen|true|false)$"
)
#: Commands of build tools that do a job and end (their servers run until stopped).
_ONE_SHOT_COMMAND = re.compile(
    r"^(?:npm|yarn|pnpm)\s+(?:install|ci|i|add|test|run\s+(?:build|test|lint))\b"
    r"|^\S*(?:mvnw?|gradlew?)\b"
)
#: Programs that talk to a server: a port they name is the server's, not theirs.
_CLIENT = re.compile(
    r"^\s*(?:sudo\s+)?(?:curl|wget|http|https|xh|httpie|telnet|ab|hey|siege|lynx|links|w3m"
    r"|open|xdg-open|nc(?!\s+-\w*l))\b"
)


@dataclass(frozen=True)
class Use:
    """A loopback address a command talks to: ``port`` is digits or ``$NAME``."""

    host: str
    port: str
    scheme: str | None = None

    @property
    def url(self) -> str | None:
        """An ``http://`` URL to wait for, when the port is a number."""
        if not self.port.isdigit() or self.scheme == "https":
            return None
        host = "localhost" if self.host == "0.0.0.0" else self.host
        return f"http://{host}:{self.port}/"


def uses(text: str) -> list[Use]:
    """The loopback addresses ``text`` talks to, in order."""
    return [
        Use(m.group("host"), _normal(m.group("port")), m.group("scheme"))
        for m in _USE.finditer(text)
    ]


def listens_on(command: str) -> set[str]:
    """The ports a command names (numbers and ``$NAME``s), else the default
    port of a well-known server; empty when neither is known, or when the
    command left running cannot be a server: a client (``curl``), a job that
    ends (``kubectl expose --port 8080``, ``docker run -d``)."""
    if not could_listen(command):
        return set()
    named = {_normal(word) for word in _PORT_WORD.findall(command)}
    named = {port for port in named if not port.isdigit() or 0 < int(port) < 65536}
    if named:
        return named
    return {port for pattern, port in _DEFAULT_PORTS if pattern.search(command)}


def runs_until_stopped(command: str) -> bool:
    """Whether the command left running at the end of ``command`` is a
    well-known server or follower, in the foreground."""
    last = _last_line(command)
    return bool(_UNTIL_STOPPED.search(last)) and not _DETACHED.search(last)


def could_listen(command: str) -> bool:
    """Whether the command left running may be a server: not a client, not a
    well-known job that ends, not sent to the background."""
    last = _last_line(command)
    if runs_until_stopped(command):
        return True
    words = [w for w in last.split() if not re.match(r"^\w+=", w) and w != "sudo"]
    program = words[0].rsplit("/", 1)[-1] if words else ""
    ends = _ONE_SHOT.match(program) or _ONE_SHOT_COMMAND.match(" ".join(words))
    return not (_CLIENT.match(last) or ends or _DETACHED.search(last))


def _last_line(command: str) -> str:
    """The command's last line without its comment: what is left running."""
    lines = [line for line in command.splitlines() if line.strip()]
    return re.sub(r"(?:^|\s)#.*$", "", lines[-1]) if lines else ""


def first_line(command: str) -> str:
    """The command's first line, for a note."""
    lines = command.strip().splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""


def _normal(port: str) -> str:
    return "$" + port.strip("${}") if port.startswith("$") else port
