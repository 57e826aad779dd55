"""Images in a page's prose: finding their links and rewriting them (pure).

Two forms are read, outside code: Markdown ``![alt](path "title")`` and HTML
``<img src="path">``. Links with a scheme (``https:``, ``data:``), ``//host``
links and fragments are left alone; the rest are the workshop's own files,
which :mod:`.files` looks up, copies beside the notebooks, and links to here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from markdown_it import MarkdownIt

_MARKDOWN_IMAGE = re.compile(
    r"!\[(?:[^\[\]\\]|\\.|\[[^\]]*\])*\]\(\s*(?P<url><[^<>\n]*>|[^\s()<>]+(?:\([^\s()]*\)[^\s()]*)*)"
)
_HTML_IMAGE = re.compile(
    r"""<img\b[^>]*?\bsrc\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'>]+))""",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//|#)")
_PARSER = MarkdownIt("commonmark")


def local_path(url: str) -> str | None:
    """The file path an image link names, or None for a remote or empty one:
    ``<a b.png>`` and ``a%20b.png?v=2`` both give ``a b.png``."""
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    if not url or _SCHEME.match(url):
        return None
    path = unquote(re.split(r"[?#]", url, maxsplit=1)[0])
    return path or None


def image_links(text: str) -> list[str]:
    """The image links of Markdown ``text``, in order, code left out."""
    found: list[str] = []

    def note(url: str) -> None:
        found.append(url)

    rewrite_images(text, note)
    return found


def rewrite_images(text: str, replace: Callable[[str], str | None]) -> str:
    """``text`` with each image link ``url`` replaced by ``replace(url)``
    (kept when it returns None). Fenced and indented code, and code spans,
    are left as they are."""
    lines = text.split("\n")
    code = _code_lines(text)
    out = []
    for number, line in enumerate(lines):
        if number in code:
            out.append(line)
            continue
        line = _sub(_MARKDOWN_IMAGE, line, "url", replace, markdown=True)
        line = _sub(_HTML_IMAGE, line, None, replace, markdown=False)
        out.append(line)
    return "\n".join(out)


def markdown_url(path: str) -> str:
    """A relative path as a Markdown link target (``<...>`` when it has spaces)."""
    return f"<{path}>" if re.search(r"[\s()<>]", path) else path


def _sub(
    pattern: re.Pattern[str],
    line: str,
    group: str | None,
    replace: Callable[[str], str | None],
    markdown: bool,
) -> str:
    def one(match: re.Match[str]) -> str:
        if _in_code_span(line, match.start()):
            return match.group(0)
        name = group or next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
        url = match.group(name)
        new = replace(url)
        if new is None:
            return match.group(0)
        new = markdown_url(new) if markdown else new.replace('"', "%22")
        start, end = match.start(name) - match.start(), match.end(name) - match.start()
        if name == "bare":
            new = f'"{new}"'
        return match.group(0)[:start] + new + match.group(0)[end:]

    return pattern.sub(one, line)


def _in_code_span(line: str, position: int) -> bool:
    return line[:position].count("`") % 2 == 1


def _code_lines(text: str) -> set[int]:
    lines: set[int] = set()
    for token in _PARSER.parse(text):
        if token.type in ("fence", "code_block") and token.map is not None:
            lines.update(range(*token.map))
    return lines
