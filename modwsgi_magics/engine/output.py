"""Terminal bytes to notebook text: decoding, control sequences, size caps.

Pure functions and small classes with no I/O, so each is tested as a table.
"""

from __future__ import annotations

import codecs
import re
from collections import deque

#: Escape sequences a terminal understands. Only SGR (colours, ``ESC[...m``)
#: means something in a notebook; the others (cursor moves, titles, bracketed
#: paste, charset switches) are dropped, as are C0 controls but \t \n \r.
_CONTROL = re.compile(
    r"""
      (?P<csi> \x1b\[ [0-?]* [ -/]* [@-~] )
    | \x1b\] [^\x07\x1b]* (?: \x07 | \x1b\\ )        # OSC: window title, links
    | \x1b [PX^_] .*? \x1b\\                         # DCS, SOS, PM, APC strings
    | \x1b [ -/]* [0-~]                              # two-byte escapes, charsets
    | [\x00-\x08\x0b\x0c\x0e-\x1f\x7f]              # C0 controls, a stray ESC, DEL
    """,
    re.VERBOSE | re.DOTALL,
)
#: An escape sequence cut off at the end of a chunk: hold it for the next one.
_UNFINISHED = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_].*|[ -/]*)\Z", re.DOTALL)
_ANSI_ANY = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_NEEDS_FILTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _keep_sgr(match: re.Match[str]) -> str:
    csi = match.group("csi")
    return csi if csi is not None and csi.endswith("m") else ""


def strip_controls(text: str) -> str:
    """Drop terminal control sequences but colours; turn ``\\r\\n`` into ``\\n``.

    >>> strip_controls("\\x1b[?2004hls\\x1b[0m\\r\\n")
    'ls\\x1b[0m\\n'
    """
    text = text.replace("\r\n", "\n")
    if _NEEDS_FILTER.search(text):
        text = _CONTROL.sub(_keep_sgr, text)
    return text


def plain_text(text: str) -> str:
    """What a reader sees: no colours, and each ``\\r``-rewritten line at its last state.

    >>> plain_text("\\x1b[1m 10%\\r100%\\x1b[0m\\ndone")
    '100%\\ndone'
    """
    text = _ANSI_ANY.sub("", strip_controls(text))
    if "\r" not in text:
        return text
    return "\n".join(_last_rewrite(line) for line in text.split("\n"))


def _last_rewrite(line: str) -> str:
    parts = [part for part in line.split("\r") if part]
    return parts[-1] if parts else ""


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``...`` when cut.

    >>> shorten("mod_wsgi-express start-server", 12)
    'mod_wsgi-...'
    """
    return text if len(text) <= width else text[: width - 3] + "..."


def first_line(text: str) -> str:
    """The first line that is not blank, stripped ("" for none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class TerminalDecoder:
    """Incremental bytes-to-text for a terminal stream.

    Chunks from a pty split UTF-8 characters, escape sequences and ``\\r\\n``
    pairs anywhere; the decoder holds such tails back until the next chunk.
    Undecodable bytes (binary output) become U+FFFD instead of failing.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    def feed(self, data: bytes) -> str:
        text = self._held + self._utf8.decode(data)
        self._held = ""
        cut = _UNFINISHED.search(text, max(0, len(text) - 256))
        if cut:
            text, self._held = text[: cut.start()], text[cut.start() :]
        elif text.endswith("\r"):
            text, self._held = text[:-1], "\r"
        return strip_controls(text)

    def flush(self) -> str:
        """Whatever is held back, once the stream has ended."""
        text = self._held + self._utf8.decode(b"", final=True)
        self._held = ""
        return strip_controls(text)


class TailBuffer:
    """The last ``limit`` characters of a stream, kept in chunks (no big copies)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped_chars = 0
        self.dropped_lines = 0
        self._chunks: deque[str] = deque()
        self._size = 0

    def append(self, text: str) -> None:
        self._chunks.append(text)
        self._size += len(text)
        while self._size > self.limit:
            excess = self._size - self.limit
            first = self._chunks[0]
            cut = first if len(first) <= excess else first[:excess]
            if cut is first:
                self._chunks.popleft()
            else:
                self._chunks[0] = first[excess:]
            self._size -= len(cut)
            self.dropped_chars += len(cut)
            self.dropped_lines += cut.count("\n")

    def text(self) -> str:
        return "".join(self._chunks)

    @property
    def end(self) -> int:
        """Characters appended since the start (or the last clear): a position."""
        return self.dropped_chars + self._size

    def since(self, position: int) -> str:
        """What was appended after ``position``, as far as it is still kept."""
        text = self.text()
        return text[max(0, position - self.dropped_chars) :]

    def clear(self) -> None:
        self.dropped_chars += self._size
        self._chunks.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size


class OutputBudget:
    """Cap what one command leaves in a notebook at ``limit`` characters.

    The first half streams live; once it is spent, only the latest half is
    kept and shown when the command ends, after a one-line marker saying how
    much was left out. Memory stays bounded however much a command prints.
    """

    def __init__(self, limit: int, hint: str = "") -> None:
        self.head_limit = limit // 2
        self.head_used = 0
        self._tail = TailBuffer(limit - self.head_limit)
        self.head: list[str] = []
        self.hint = hint

    def feed(self, text: str) -> str:
        """Take new output; return the part to show now."""
        room = self.head_limit - self.head_used
        if room > 0:
            shown, rest = text[:room], text[room:]
            self.head_used += len(shown)
            self.head.append(shown)
        else:
            shown, rest = "", text
        if rest:
            self._tail.append(rest)
        return shown

    def finish(self) -> str:
        """The part to show once the command has ended: marker and tail."""
        tail = self._tail.text()
        chars, lines = self._tail.dropped_chars, self._tail.dropped_lines
        if not chars:
            return tail
        newline = tail.find("\n")
        if 0 <= newline < len(tail) - 1:  # start the tail on a whole line
            chars, lines, tail = chars + newline + 1, lines + 1, tail[newline + 1 :]
        return f"\n[... {lines:,} lines ({chars:,} characters) left out{self.hint} ...]\n" + tail

    @property
    def omitted(self) -> int:
        return self._tail.dropped_chars

    def kept(self) -> str:
        """Everything this budget shows, head and finish, as one string."""
        return "".join(self.head) + self.finish()
