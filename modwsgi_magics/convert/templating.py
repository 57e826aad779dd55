"""What Educates' renderers do to a page before it is Markdown: templating.

The classic renderer runs the page through Liquid, the Hugo renderer through
Hugo's shortcodes; :func:`render` does what the converter can do of either,
and keeps everything else visible:

* Liquid ``{% raw %}...{% endraw %}``: the tags go, the content stays exactly
  as written (no variable inside is substituted);
* Liquid ``{% if %}`` / ``{% elsif %}`` / ``{% else %}`` / ``{% endif %}`` and
  ``{% unless %}``, and Hugo's ``{{< pathway NAME >}}``: every branch is kept
  as a block quote under a label saying its condition and whether it holds
  here; the commands of a branch that does not hold do not run;
* admonitions ``{{< note >}}``, ``{{< warning >}}``, ``{{< danger >}}`` (and
  ``tip``, ``info``, ``caution``, ``important``): a block quote under a bold
  title;
* a workshop's own paired shortcodes: their content, under a label naming the
  shortcode; ``{{< highlight LANG >}}``: a fenced code block;
* data variables ``{{ name }}`` (and the old ``%name%``), ``{{< param name >}}``
  and ``{{% param name %}}``: their values, where known; ``{{< figure src= >}}``
  an image; ``{{copy}}`` and ``{{< copy >}}`` nothing; ``{{</* x */>}}`` the
  literal ``{{< x >}}``.

Liquid is applied to classic pages and shortcodes to Hugo pages; a page whose
workshop does not say which it is counts as Hugo when it uses a shortcode.
What stays unsubstituted is reported line by line, so that the converter can
list what a code cell still holds. Lines keep their origin: messages name the
page's own line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

HUGO = "hugo"
CLASSIC = "classic"

#: Hugo shortcodes that are call-outs, and the title each shows by default.
ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "info": "Info",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "danger": "Danger",
}

# Characters of a protected span (raw, escaped shortcodes), put back at the end.
_PROTECT = str.maketrans({"{": "\ue000", "}": "\ue001", "%": "\ue002"})
_UNPROTECT = str.maketrans({"\ue000": "{", "\ue001": "}", "\ue002": "%"})
#: Marks where a tag was removed; a line left holding only marks is dropped.
_GONE = "\ue010"

_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_HUGO_ESCAPED = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.DOTALL)
_HUGO_TAG = re.compile(
    r"\{\{(?P<delim>[<%])\s*(?P<close>/)?\s*(?P<name>[\w.-]+)(?P<args>.*?)\s*(?P<self>/)?\s*[>%]\}\}"
)
_LIQUID_TAG = re.compile(r"\{%-?\s*(?P<name>\w+)(?P<args>.*?)-?%\}")
_LIQUID_BLOCK = {"if", "elsif", "else", "endif", "unless", "endunless"}
_LIQUID_VARIABLE = re.compile(r"\{\{-?\s*(?P<name>[A-Za-z_]\w*)\s*-?\}\}")
_PERCENT_VARIABLE = re.compile(r"%(?P<name>[A-Za-z_]\w*)%")
_ARGUMENT = re.compile(r"""(?:(?P<key>\w+)\s*=\s*)?(?P<value>"[^"]*"|'[^']*'|[^\s"']+)""")
_LEFTOVER = {
    CLASSIC: re.compile(r"\{\{.*?\}\}|\{%.*?%\}"),
    HUGO: re.compile(r"\{\{[<%].*?[>%]\}\}"),
}


@dataclass
class Rendered:
    """A page body as the converter reads it.

    ``lines`` are the rendered lines; ``origin[i]`` is the body line (from 0)
    that line ``i`` came from; ``inactive[i]`` says why the actions on line
    ``i`` do not run; ``leftovers[i]`` lists the template tags still on line
    ``i``; ``notes`` are ``(body line, message)`` pairs for the author.
    """

    lines: list[str]
    origin: list[int]
    inactive: dict[int, str] = field(default_factory=dict)
    leftovers: dict[int, list[str]] = field(default_factory=dict)
    notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def renderer_of(body: str, renderer: str | None = None) -> str:
    """The renderer a page is written for: the workshop's, else Hugo when the
    page uses a shortcode, else classic."""
    if renderer in (HUGO, CLASSIC):
        return renderer
    return HUGO if _HUGO_TAG.search(body) else CLASSIC


def render(
    body: str,
    variables: Mapping[str, str] | None = None,
    pathway: str | None = None,
    renderer: str | None = None,
) -> Rendered:
    """Render a page body (front matter removed) as described in the module doc."""
    return _Renderer(body, dict(variables or {}), pathway, renderer_of(body, renderer)).run()


def substitute(text: str, variables: Mapping[str, str], renderer: str = CLASSIC) -> str:
    """``text`` (a title, one line) with its data variables replaced where known."""
    line = _Line(text, 0)
    _Renderer("", dict(variables), None, renderer)._substitute(line)
    return line.text.translate(_UNPROTECT).replace(_GONE, "")


def variable_of(tag: str) -> str | None:
    """The data variable a leftover tag names: ``{{ x }}``, ``{{< param x >}}``."""
    match = _LIQUID_VARIABLE.fullmatch(tag)
    if match:
        return match.group("name")
    match = _HUGO_TAG.fullmatch(tag)
    if match and match.group("name") == "param":
        words = _arguments(match.group("args"))
        return words[0][1] if words else None
    return None


# -- the renderer -------------------------------------------------------------


@dataclass
class _Line:
    text: str
    origin: int
    generated: bool = False
    inactive: str | None = None


@dataclass
class _Block:
    """An open block: a quote (call-out, branch, custom shortcode) or a fence."""

    name: str
    indent: str
    quote: bool = True
    active: bool = True
    reason: str | None = None
    liquid: bool = False
    taken: bool | None = False  # liquid: a branch already held (None: unknown)


class _Renderer:
    def __init__(
        self, body: str, variables: dict[str, str], pathway: str | None, renderer: str
    ) -> None:
        self.body = body
        self.variables = variables
        self.pathway = pathway
        self.renderer = renderer
        self.out: list[_Line] = []
        self.stack: list[_Block] = []
        self.notes: list[tuple[int, str]] = []
        self.paired: set[str] = set()

    def run(self) -> Rendered:
        text = self._protect(self.body)
        if self.renderer == HUGO:
            self.paired = _paired_names(text)
        lines = [_Line(line, number) for number, line in enumerate(text.split("\n"))]
        for line in self._split_blocks(lines):
            self._walk(line)
        while self.stack:  # a block never closed: close it at the end
            self._close(self.stack[-1], self.out[-1].origin if self.out else 0)
        rendered = Rendered([], [])
        for line in self.out:
            if not line.generated:
                self._substitute(line)
            text = line.text
            if text.strip() and not text.replace(_GONE, "").strip() and not line.generated:
                continue  # the line held only a removed tag
            text = text.replace(_GONE, "")
            index = len(rendered.lines)
            if line.inactive:
                rendered.inactive[index] = line.inactive
            if not line.generated:
                found = _LEFTOVER[self.renderer].findall(text)
                if found:
                    rendered.leftovers[index] = [tag.translate(_UNPROTECT) for tag in found]
            rendered.lines.append(text.translate(_UNPROTECT))
            rendered.origin.append(line.origin)
        rendered.notes = self.notes
        return rendered

    # -- protected spans and block tags on lines of their own -------------------

    def _protect(self, text: str) -> str:
        if self.renderer == CLASSIC:
            return _RAW.sub(lambda m: _GONE + m.group(1).translate(_PROTECT) + _GONE, text)
        return _HUGO_ESCAPED.sub(
            lambda m: ("{{" + m.group(1) + m.group(2) + m.group(3) + "}}").translate(_PROTECT),
            text,
        )

    def _block_tags(self, text: str) -> Iterator[re.Match[str]]:
        if self.renderer == CLASSIC:
            for match in _LIQUID_TAG.finditer(text):
                if match.group("name") in _LIQUID_BLOCK:
                    yield match
        else:
            for match in _HUGO_TAG.finditer(text):
                if match.group("name") in self.paired and not match.group("self"):
                    yield match

    def _split_blocks(self, lines: list[_Line]) -> Iterator[_Line]:
        """Each block tag on a line of its own, text before and after it on theirs."""
        for line in lines:
            tags = list(self._block_tags(line.text))
            if not tags or (len(tags) == 1 and tags[0].group(0) == line.text.strip()):
                yield line
                continue
            indent = _indent(line.text)
            position = 0
            for number, tag in enumerate(tags):
                before = line.text[position : tag.start()]
                if before.strip():
                    text = before.rstrip() if number == 0 else indent + before.strip()
                    yield _Line(text, line.origin)
                yield _Line(indent + tag.group(0), line.origin)
                position = tag.end()
            after = line.text[position:]
            if after.strip():
                yield _Line(indent + after.strip(), line.origin)

    # -- the walk through the lines ---------------------------------------------

    def _walk(self, line: _Line) -> None:
        stripped = line.text.strip()
        tag = (_LIQUID_TAG if self.renderer == CLASSIC else _HUGO_TAG).fullmatch(stripped)
        if tag is not None and self._block(tag, _indent(line.text), line.origin):
            return
        self._emit(line.text, line.origin, generated=line.generated)

    def _block(self, tag: re.Match[str], indent: str, origin: int) -> bool:
        """Open, switch or close a block for ``tag``; False if it is no block tag."""
        name = tag.group("name")
        args = tag.group("args").strip()
        if self.renderer == CLASSIC:
            if name in ("if", "unless"):
                self._open_branch(name, args, indent, origin)
            elif name in ("elsif", "else") and self.stack and self.stack[-1].liquid:
                self._next_branch(name, args, origin)
            elif name in ("endif", "endunless") and self.stack and self.stack[-1].liquid:
                self._close(self.stack[-1], origin)
            else:
                return False
            return True
        if name not in self.paired or tag.group("self"):
            return False
        if tag.group("close"):
            for block in reversed(self.stack):
                if block.name == name:
                    while self.stack[-1] is not block:
                        self._close(self.stack[-1], origin)
                    self._close(block, origin)
                    return True
            return False
        if name in ADMONITIONS:
            title = dict(_arguments(args)).get("title") or ADMONITIONS[name]
            self._open(_Block(name, indent), f"**{title}**", origin)
        elif name == "pathway":
            self._open_pathway(args, indent, origin)
        elif name == "highlight":
            words = _arguments(args)
            language = words[0][1] if words and not words[0][0] else ""
            self._emit(indent + "```" + language, origin, generated=True)
            self.stack.append(_Block(name, indent, quote=False))
        else:
            label = f"**`{name}{' ' + args if args else ''}`** (a shortcode of the workshop: "
            label += "its content is kept as it is)"
            self._open(_Block(name, indent), label, origin)
            self.notes.append(
                (
                    origin,
                    f"the shortcode `{name}` is the workshop's own: its "
                    "content is kept, whatever it would decide",
                )
            )
        return True

    def _open_pathway(self, args: str, indent: str, origin: int) -> None:
        words = _arguments(args)
        wanted = words[0][1] if words else ""
        if self.pathway is None:
            active, why = False, "no pathway is converted: not run"
        elif wanted == self.pathway:
            active, why = True, "the pathway converted"
        else:
            active, why = False, f"this conversion follows pathway `{self.pathway}`: not run"
        block = _Block("pathway", indent, active=active)
        if not active:
            block.reason = f"it is only on pathway `{wanted}`, and {why.removesuffix(': not run')}"
        label = f"**{'Pathway' if active else 'Only on pathway'} `{wanted}`** ({why})"
        self._open(block, label, origin)

    def _open_branch(self, name: str, condition: str, indent: str, origin: int) -> None:
        holds = self._condition(condition, origin)
        if holds is not None and name == "unless":
            holds = not holds
        word = "If" if name == "if" else "Unless"
        block = _Block("if", indent, liquid=True, taken=holds)
        self._branch(block, f"{word} `{condition}`", f"{{% {name} {condition} %}}", holds, origin)

    def _next_branch(self, name: str, condition: str, origin: int) -> None:
        previous = self.stack[-1]
        self._close(previous, origin)
        if name == "elsif":
            holds = self._condition(condition, origin)
            label, tag = f"Else, if `{condition}`", f"{{% elsif {condition} %}}"
        else:
            holds, label, tag = True, "Otherwise", "{% else %}"
        if previous.taken is None or holds is None:
            holds = None
        elif previous.taken:
            holds = False
        taken = None if holds is None else bool(previous.taken or holds)
        block = _Block("if", previous.indent, liquid=True, taken=taken)
        self._branch(block, label, tag, holds, origin)

    def _branch(self, block: _Block, label: str, tag: str, holds: bool | None, origin: int) -> None:
        if holds is None:
            state = "not evaluated here: kept, and its commands run"
        elif holds:
            state = "true here"
        else:
            state = "false here: not run"
            block.active = False
            block.reason = f"it is inside `{tag}`, which is false here"
        self._open(block, f"**{label}** ({state})", origin)

    def _condition(self, condition: str, origin: int) -> bool | None:
        holds, undefined = evaluate(condition, self.variables)
        if holds is None:
            self.notes.append(
                (origin, f"`{condition}` cannot be evaluated here: every branch is kept")
            )
        for name in undefined:
            self.notes.append(
                (origin, f"`{name}` has no value (give --var {name}=VALUE): Liquid takes it as nil")
            )
        return holds

    def _open(self, block: _Block, label: str, origin: int) -> None:
        self.stack.append(block)
        self._emit(block.indent + label, origin, generated=True)
        self._emit(block.indent, origin, generated=True)

    def _close(self, block: _Block, origin: int) -> None:
        self.stack.remove(block)
        if block.quote:
            self._emit(block.indent, origin, generated=True, quoted=False)
        else:
            self._emit(block.indent + "```", origin, generated=True)

    def _emit(self, text: str, origin: int, generated: bool = False, quoted: bool = True) -> None:
        """Add a line, prefixed with ``> `` for each quote block it is in."""
        prefix, base, rest = "", "", text
        for block in self.stack:
            if not block.quote:
                continue
            relative = block.indent[len(base) :] if block.indent.startswith(base) else ""
            rest = rest[len(relative) :] if rest.startswith(relative) else rest.lstrip(" \t")
            prefix += relative + "> "
            base = block.indent
        if not quoted:
            rest = ""
        line = (prefix + rest).rstrip() if not rest.strip() else prefix + rest
        inactive = next((block.reason for block in self.stack if not block.active), None)
        self.out.append(_Line(line, origin, generated, inactive))

    # -- variables and single shortcodes -----------------------------------------

    def _substitute(self, line: _Line) -> None:
        if self.renderer == CLASSIC:
            line.text = _LIQUID_VARIABLE.sub(self._liquid_variable, line.text)
            line.text = _PERCENT_VARIABLE.sub(
                lambda m: self.variables.get(m.group("name"), m.group(0)), line.text
            )
        else:
            line.text = _HUGO_TAG.sub(self._shortcode, line.text)

    def _liquid_variable(self, match: re.Match[str]) -> str:
        name = match.group("name")
        if name == "copy":
            return _GONE
        value = self.variables.get(name)
        return match.group(0) if value is None else value.translate(_PROTECT)

    def _shortcode(self, match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group("close"):
            return match.group(0)
        words = _arguments(match.group("args"))
        if name == "param" and words:
            value = self.variables.get(words[0][1])
            return match.group(0) if value is None else value.translate(_PROTECT)
        if name == "copy":
            return _GONE
        if name == "figure":
            named = dict(words)
            source = named.get("src")
            if source:
                alt = named.get("alt") or named.get("caption") or named.get("title") or ""
                return f"![{alt}]({source})"
        return match.group(0)


# -- Liquid conditions ----------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>'[^']*'|"[^"]*")|(?P<op>==|!=|<>|<=|>=|<|>)|"""
    r"""(?P<number>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][\w.-]*))"""
)
_NOTHING = object()
_Ordered = TypeVar("_Ordered", float, str)


def evaluate(condition: str, variables: Mapping[str, str]) -> tuple[bool | None, list[str]]:
    """A Liquid condition's truth with ``variables``, and the names it uses that
    have no value (nil, as in Liquid); None when it cannot be read.

    ``and`` and ``or`` group from the right, as Liquid does; only nil and false
    are false.
    """
    tokens: list[tuple[str, object]] = []
    position = 0
    while position < len(condition.rstrip()):
        match = _TOKEN.match(condition, position)
        if match is None or match.end() == position:
            return None, []
        position = match.end()
        kind = match.lastgroup or ""
        text = match.group(kind)
        tokens.append((kind, text))
    undefined: list[str] = []

    def value(kind: str, text: object) -> object:
        assert isinstance(text, str)
        if kind == "string":
            return text[1:-1]
        if kind == "number":
            return float(text)
        literals = {"true": True, "false": False, "nil": None, "null": None}
        if text in literals:
            return literals[text]
        if text in ("empty", "blank"):
            return _NOTHING
        if text in variables:
            return variables[text]
        undefined.append(text)
        return None

    def compare(left: object, op: str, right: object) -> bool:
        if op == "contains":
            return isinstance(left, str) and isinstance(right, str) and right in left
        if right is _NOTHING or left is _NOTHING:
            other = left if right is _NOTHING else right
            same = other in ("", None) or (isinstance(other, str) and not other.strip())
            return same if op == "==" else not same
        left, right = _number(left), _number(right)
        if op == "==":
            return left == right
        if op in ("!=", "<>"):
            return left != right
        if isinstance(left, float) and isinstance(right, float):
            return _ordered(left, op, right)
        if isinstance(left, str) and isinstance(right, str):
            return _ordered(left, op, right)
        return False

    def parse(items: list[tuple[str, object]]) -> bool | None:
        for index, (kind, text) in enumerate(items):
            if kind == "word" and text in ("and", "or"):
                left, right = parse(items[:index]), parse(items[index + 1 :])
                if left is None or right is None:
                    return None
                return (left and right) if text == "and" else (left or right)
        if len(items) == 1 and items[0][0] != "op":
            held = value(*items[0])
            return held is not None and held is not False and held is not _NOTHING
        if len(items) == 3:
            (lkind, ltext), (okind, op), (rkind, rtext) = items
            is_op = okind == "op" or (okind == "word" and op == "contains")
            if is_op and "op" not in (lkind, rkind):
                return compare(value(lkind, ltext), str(op), value(rkind, rtext))
        return None

    holds = parse(tokens) if tokens else None
    return holds, list(dict.fromkeys(undefined)) if holds is not None else []


def _ordered(left: _Ordered, op: str, right: _Ordered) -> bool:
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# -- helpers --------------------------------------------------------------------


def _paired_names(text: str) -> set[str]:
    """Shortcode names closed somewhere (``{{< /note >}}``): their tags open blocks."""
    return {match.group("name") for match in _HUGO_TAG.finditer(text) if match.group("close")}


def _arguments(args: str) -> list[tuple[str, str]]:
    """A shortcode's arguments as ``(name, value)``, name empty when positional."""
    return [
        (match.group("key") or "", match.group("value").strip("\"'"))
        for match in _ARGUMENT.finditer(args)
    ]


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]
