"""The converter as pure-function tables: fences, linking, notebooks, page order."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path

import nbformat
import pytest

from modwsgi_magics.convert.actions import (
    Clear,
    Command,
    Input,
    Interrupt,
    Markdown,
    Note,
    classify,
    fence,
)
from modwsgi_magics.convert.exercises import rewrite as rewrite_exercises
from modwsgi_magics.convert.files import convert_files
from modwsgi_magics.convert.images import image_links, local_path, rewrite_images
from modwsgi_magics.convert.notebook import (
    LOAD_EXTENSION,
    Context,
    convert,
    link_with_log,
    notes,
    read_page,
    split_front_matter,
)
from modwsgi_magics.convert.servers import Use, listens_on, runs_until_stopped, uses
from modwsgi_magics.convert.templating import evaluate, render, renderer_of, variable_of
from modwsgi_magics.convert.workshop import (
    PageFile,
    find_pages,
    notebook_names,
    title_from_name,
    workshop_pages,
)
from modwsgi_magics.errors import WorkshopError
from modwsgi_magics.syntax import TERMINALS, escape, unescape

SEED = Path(__file__).parent / "fixtures" / "seeds" / "000_7ecf65a1d39538e2.txt"  # shared/seeds


def page(text: str, name: str = "page.md"):
    return read_page(textwrap.dedent(text), name)


def code_cells(text: str) -> list[str]:
    """The code cells a page converts to, without the extension-loading cell."""
    (notebook,) = convert([page(text)])
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert sources[0] == LOAD_EXTENSION
    return sources[1:]


def markdown_cells(text: str) -> list[str]:
    (notebook,) = convert([page(text)])
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


# -- one fence ----------------------------------------------------------------

CLASSIFY = [
    # legacy fences: the body is the command
    ("execute", "ls -l\n", Command(("1",), "ls -l", "execute")),
    ("execute-1", "ls\n", Command(("1",), "ls", "execute-1")),
    ("execute-2", "ls\n", Command(("2",), "ls", "execute-2")),
    ("execute-all", "clear\n", Command(TERMINALS, "clear", "execute-all")),
    ("execute-2", "cd /tmp\nls\n", Command(("2",), "cd /tmp\nls", "execute-2")),
    ("execute", "<ctrl-c>\n", Interrupt(("1",), "execute")),
    ("execute-2", "<ctrl+c>\n", Interrupt(("2",), "execute-2")),
    ("execute-all", " <CTRL-C> \n", Interrupt(TERMINALS, "execute-all")),
    # YAML actions
    ("terminal:execute", "command: ls", Command(("1",), "ls", "execute-1")),
    (
        "terminal:execute",
        "command: ls\nsession: 2\nclear: true",
        Command(("2",), "ls", "execute-2", clear=True),
    ),
    ("terminal:execute", "command: ls\nsession: '2'", Command(("2",), "ls", "execute-2")),
    ("terminal:execute-all", "command: ls", Command(TERMINALS, "ls", "execute-all")),
    (
        "terminal:execute-all",
        "command: ls\nclear: true",
        Command(TERMINALS, "ls", "execute-all", clear=True),
    ),
    ("terminal:execute", "command: |\n  a\n  b\n", Command(("1",), "a\nb", "execute-1")),
    ("terminal:interrupt", "session: 2", Interrupt(("2",), "execute-2")),
    ("terminal:interrupt", "", Interrupt(("1",), "execute-1")),
    ("terminal:interrupt-all", "", Interrupt(TERMINALS, "execute-all")),
    ("terminal:input", "text: y\nsession: 2", Input("2", "y\n")),
    ("terminal:input", "text: secret\nendl: false", Input("1", "secret")),
    ("terminal:clear", "session: 2", Clear(("2",))),
    ("terminal:clear", "", Clear(("1",))),
    ("terminal:clear-all", "", Clear(TERMINALS)),
    # text to copy stays Markdown code
    ("copy", "echo copied\n", Markdown("```\necho copied\n```")),
    ("copy-and-edit", "echo EDIT\n", Markdown("```\necho EDIT\n```")),
    ("workshop:copy", "text: echo copied", Markdown("```\necho copied\n```")),
    ("workshop:copy-and-edit", "text: echo x", Markdown("```\necho x\n```")),
    # plain fences (expected output, code in some language) are prose
    ("", "hello\n", None),
    ("bash", "ls\n", None),
    ("text title=x", "out\n", None),
]


@pytest.mark.parametrize(("info", "body", "expected"), CLASSIFY)
def test_when_a_fence_is_classified_then_it_becomes_its_step(info, body, expected):
    assert classify(info, body) == expected


NOTES = [
    ("dashboard:open-url", "url: https://example.com/", "no notebook equivalent"),
    ("terminal:select", "session: 1", "no notebook equivalent"),
    ("execute-_x", "ls\n", "is not a name a notebook terminal can have"),
    ("terminal:execute", "command: ls\nsession: 'x y'", "is not a name a notebook terminal"),
    ("dashboard:create-dashboard", "name: Site\nurl: http://localhost:8080/", "opens no terminal"),
    ("terminal:execute", "session: 1", "no `command`"),
    ("terminal:input", "session: 1", "no `text`"),
    ("terminal:execute", "command: [unclosed", "YAML does not parse"),
    ("terminal:execute", "- a list", "not a YAML mapping"),
    ("execute", "\n", "no command"),
]


@pytest.mark.parametrize(("info", "body", "reason"), NOTES)
def test_when_an_action_has_no_notebook_meaning_then_it_is_a_note(info, body, reason):
    step = classify(info, body, line=7)
    assert isinstance(step, Note)
    assert (step.action, step.body, step.line) == (info, body, 7)
    assert reason in step.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ls", "```\nls\n```"),
        ("a ``` b", "````\na ``` b\n````"),
        ("````", "`````\n````\n`````"),
    ],
)
def test_when_text_is_fenced_then_the_fence_is_longer_than_any_inside(text, expected):
    assert fence(text) == expected


@pytest.mark.parametrize(
    "text", ["y\n", 'it\'s "quoted"\n', "back\\slash\ttab\n", "no newline", "$HOME {x}\n"]
)
def test_when_input_is_escaped_then_the_magic_reads_it_back(text):
    assert unescape(shlex.split(shlex.quote(escape(text)))[0]) == text


# -- linking: servers, prompts, clears -----------------------------------------

LINKED = [
    (
        "a command interrupted later in its terminal is a server",
        """
        ```execute-1
        python3 -m http.server 8080
        ```
        ```execute-2
        curl localhost:8080
        ```
        ```execute-1
        <ctrl-c>
        ```
        """,
        [
            "%%execute-1 --bg --wait-url http://localhost:8080/\npython3 -m http.server 8080",
            "%%execute-2\ncurl localhost:8080",
            "%%execute-1\n<ctrl-c>",
        ],
    ),
    (
        "an interrupt of the other terminal leaves a command in the foreground",
        """
        ```execute-1
        sleep 1
        ```
        ```execute-2
        <ctrl-c>
        ```
        """,
        ["%%execute-1\nsleep 1", "%%execute-2\n<ctrl-c>"],
    ),
    (
        "only the last command before the interrupt is the server",
        """
        ```terminal:execute
        command: cd /tmp
        ```
        ```terminal:execute
        command: tail -f log
        ```
        ```terminal:interrupt
        ```
        """,
        ["%%execute-1\ncd /tmp", "%%execute-1 --bg\ntail -f log", "%%execute-1\n<ctrl-c>"],
    ),
    (
        "execute-all interrupted by interrupt-all is a server in both",
        """
        ```terminal:execute-all
        command: top
        ```
        ```terminal:interrupt-all
        ```
        """,
        ["%%execute-all --bg\ntop", "%%execute-all\n<ctrl-c>"],
    ),
    (
        "input for a waiting command becomes its --input",
        """
        ```terminal:execute
        command: read -p "Continue? [y/N] " answer
        session: 2
        ```
        ```terminal:input
        text: y
        session: 2
        ```
        """,
        ["%%execute-2 --input 'y\\n'\nread -p \"Continue? [y/N] \" answer"],
    ),
    (
        "input typed in pieces is joined, Enter where endl says",
        """
        ```terminal:execute
        command: read name
        ```
        ```terminal:input
        text: o
        endl: false
        ```
        ```terminal:input
        text: k
        ```
        """,
        ["%%execute-1 --input 'ok\\n'\nread name"],
    ),
    (
        "input goes to the last command of its terminal, execute-all included",
        """
        ```execute-1
        read name
        ```
        ```execute-all
        echo between
        ```
        ```terminal:input
        text: echo typed
        ```
        """,
        ["%%execute-1\nread name", "%%execute-all --input 'echo typed\\n'\necho between"],
    ),
    (
        "input with Enter for an interactive program is typed into it",
        """
        ```execute-1
        python3 -i
        ```
        ```terminal:input
        text: print(1)
        ```
        ```execute-1
        <ctrl-c>
        ```
        """,
        ["%%execute-1 --bg\npython3 -i", "%%execute-1\nprint(1)", "%%execute-1\n<ctrl-c>"],
    ),
    (
        "input for a server stays %terminal input",
        """
        ```execute-1
        mod_wsgi-express start-server
        ```
        ```terminal:input
        text: q
        ```
        ```execute-1
        <ctrl-c>
        ```
        """,
        [
            "%%execute-1 --bg\nmod_wsgi-express start-server",
            "%terminal input 1 q\\n",
            "%%execute-1\n<ctrl-c>",
        ],
    ),
    (
        "a container's shell takes the blocks up to its exit",
        """
        ```execute-2
        docker run --rm -it busybox sh
        ```
        ```execute-2
        ls /
        ```
        ```execute-2
        <ctrl-c>
        ```
        ```execute-2
        exit
        ```
        ```execute-2
        echo back
        ```
        ```execute-2
        python3
        ```
        ```execute-2
        print(6 * 7)
        exit()
        ```
        """,
        [
            "%%execute-2 --bg\ndocker run --rm -it busybox sh",
            "%%execute-2\nls /",
            "%%execute-2\n<ctrl-c>",
            "%%execute-2\nexit",
            "%%execute-2\necho back",
            "%%execute-2 --bg\npython3",
            "%%execute-2\nprint(6 * 7)\nexit()",
        ],
    ),
    (
        "a program that is not interactive is no --bg of its own",
        """
        ```execute-1
        python3 app.py --help
        ```
        ```execute-1
        psql -c 'select 1'
        ```
        """,
        ["%%execute-1\npython3 app.py --help", "%%execute-1\npsql -c 'select 1'"],
    ),
    (
        "input with Enter at an idle prompt is a command",
        """
        ```terminal:input
        text: echo typed
        session: 2
        ```
        """,
        ["%%execute-2\necho typed"],
    ),
    (
        "a command typed as input can be a server too",
        """
        ```terminal:input
        text: sleep 100
        ```
        ```terminal:interrupt
        ```
        """,
        ["%%execute-1 --bg\nsleep 100", "%%execute-1\n<ctrl-c>"],
    ),
    (
        "terminal:clear becomes --clear of that terminal's next command",
        """
        ```terminal:clear
        session: 2
        ```
        ```execute-1
        echo one
        ```
        ```execute-2
        echo two
        ```
        ```execute-2
        echo three
        ```
        """,
        ["%%execute-1\necho one", "%%execute-2 --clear\necho two", "%%execute-2\necho three"],
    ),
    (
        "terminal:clear-all clears for the next command of each terminal",
        """
        ```terminal:clear-all
        ```
        ```execute-all
        echo both
        ```
        """,
        ["%%execute-all --clear\necho both"],
    ),
    (
        "a server that also clears keeps both options",
        """
        ```terminal:execute
        command: tail -f log
        clear: true
        ```
        ```terminal:input
        text: q
        ```
        ```terminal:interrupt
        ```
        """,
        [
            "%%execute-1 --bg --clear\ntail -f log",
            "%terminal input 1 q\\n",
            "%%execute-1\n<ctrl-c>",
        ],
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), LINKED, ids=[c[0] for c in LINKED])
def test_when_a_page_is_linked_then_its_cells_are_these(case, text, expected):
    assert code_cells(text) == expected


def test_when_input_is_merged_then_the_prose_says_where_it_went():
    text = """
    ```terminal:execute
    command: read answer
    ```

    Answer it:

    ```terminal:input
    text: y
    ```
    """
    assert markdown_cells(text) == [
        "Answer it:\n\n*`y\\n` is typed into the waiting command above (`--input`).*"
    ]


@pytest.mark.parametrize(
    ("text", "action", "reason"),
    [
        ("```terminal:clear\nsession: 2\n```\n", "terminal:clear", "no later command"),
        ("```terminal:clear-all\n```\n", "terminal:clear-all", "no later command"),
        ("```terminal:input\ntext: x\nendl: false\n```\n", "terminal:input", "nothing runs"),
        ("```dashboard:open-url\nurl: https://x/\n```\n", "dashboard:open-url", "no notebook"),
    ],
)
def test_when_an_action_has_nothing_to_do_then_it_is_kept_as_a_visible_note(text, action, reason):
    assert code_cells(text) == []
    (shown,) = markdown_cells(text)
    assert shown.startswith(f"> **Not run in this notebook:** `{action}` (line 1): ")
    assert reason in shown
    (note,) = notes([page(text)])
    assert note.startswith(f"page.md:1: `{action}` kept as a note: ")


def test_when_a_server_is_stopped_on_the_next_page_then_it_is_bg_on_its_own_page():
    first = page("```execute-1\nsleep 100\n```\n", "one.md")
    second = page("```execute-1\n<ctrl-c>\n```\n", "two.md")
    one, two = convert([first, second], join=False)
    assert [c.source for c in one.cells] == [LOAD_EXTENSION, "%%execute-1 --bg\nsleep 100"]
    assert [c.source for c in two.cells] == [LOAD_EXTENSION, "%%execute-1\n<ctrl-c>"]


def test_when_pages_are_joined_then_one_notebook_loads_the_extension_once():
    first = page("---\ntitle: One\n---\n\nText.\n\n```execute\nls\n```\n", "one.md")
    second = page("---\ntitle: Two\n---\n\n```execute-2\npwd\n```\n", "two.md")
    (notebook,) = convert([first, second])
    assert [(c.cell_type, c.source) for c in notebook.cells] == [
        ("markdown", "# One"),
        ("code", LOAD_EXTENSION),
        ("markdown", "Text."),
        ("code", "%%execute\nls"),
        ("markdown", "# Two"),
        ("code", "%%execute-2\npwd"),
    ]
    assert [c.id for c in notebook.cells] == [f"cell-{n}" for n in range(1, 7)]


def test_when_linking_then_the_pages_given_are_not_changed():
    pages = [page("```execute\nsleep 9\n```\n```terminal:input\ntext: y\n```\n")]
    before = repr(pages)
    convert(pages)
    assert repr(pages) == before


# -- pages: prose, front matter, fences where CommonMark puts them --------------


def test_when_the_seed_page_is_converted_then_it_yields_these_cells():
    (notebook,) = convert([read_page(SEED.read_text(), SEED.name)])
    nbformat.validate(notebook)
    cells = [(cell.cell_type, cell.source) for cell in notebook.cells]
    assert [kind for kind, _ in cells] == ["code"] + ["markdown", "code"] * 5 + ["markdown"]
    assert [source for kind, source in cells if kind == "code"] == [
        LOAD_EXTENSION,
        "%%execute\npython3 -m venv $HOME/venv",
        "%%execute-1\nsource $HOME/venv/bin/activate",
        "%%execute-2\nsource $HOME/venv/bin/activate",
        "%%execute\npip3 install -U pip",
        "%%execute\npip3 install mod_wsgi",
    ]
    prose = [source for kind, source in cells if kind == "markdown"]
    assert prose[0].startswith("Before we attempt to install mod_wsgi using ``pip``")
    assert "[problems](http://blog.dscpl.com.au/2016/01/" in prose[0]
    assert prose[0].endswith("To create the Python virtual environment, run:")
    assert prose[2] == "and again for the bottom terminal window by running:"
    assert prose[4] == "You can now install mod_wsgi by running:"
    assert prose[5].startswith("This command will build and install the Apache module")
    assert prose[5].endswith("but will cover it later in the workshop.")
    assert "```" not in "".join(prose)


def test_when_a_page_has_front_matter_then_title_is_a_heading_and_lines_count_from_the_file():
    text = (
        "---\ntitle: Setting up\nweight: 3\n---\n\nProse.\n\n```dashboard:open-url\nurl: x\n```\n"
    )
    converted = read_page(text, "p.md")
    assert (converted.title, converted.meta["weight"]) == ("Setting up", 3)
    assert notes([converted]) == [
        "p.md:8: `dashboard:open-url` kept as a note: it has no notebook equivalent: only a "
        "local web app (http://localhost:PORT/) opens, in a JupyterLab tab"
    ]
    assert markdown_cells(text)[0] == "# Setting up"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter\n", ({}, "no front matter\n", 0)),
        ("---\ntitle: T\n---\nbody\n", ({"title": "T"}, "body\n", 3)),
        ("---\n---\nbody\n", ({}, "body\n", 2)),
        ("---\r\ntitle: T\r\n---\r\nbody\r\n", ({"title": "T"}, "body\n", 3)),
        ("text\n---\nnot: front matter\n---\n", ({}, "text\n---\nnot: front matter\n---\n", 0)),
    ],
)
def test_when_front_matter_is_split_then_meta_body_and_offset_are_these(text, expected):
    assert split_front_matter(text) == expected


@pytest.mark.parametrize("meta", ["title: [unclosed\n", "- a list\n"])
def test_when_front_matter_is_not_a_yaml_mapping_then_the_error_names_the_page(meta):
    with pytest.raises(WorkshopError, match="^bad.md: the YAML front matter does not parse"):
        read_page(f"---\n{meta}---\nbody\n", "bad.md")


def test_when_an_action_is_nested_in_a_list_then_it_is_still_found():
    text = """
    1. First step:

       ```execute-2
       echo nested
       ```

    2. Then ~~~ fences:

    ~~~execute
    echo tilde
    ~~~
    """
    assert code_cells(text) == ["%%execute-2\necho nested", "%%execute\necho tilde"]


def test_when_copy_blocks_and_plain_fences_appear_then_they_stay_markdown_code():
    text = """
    Expected output:

    ```
    hello
    ```

    > Quoted, and kept as written:
    > ```copy
    > echo quoted
    > ```

    ```copy
    echo copied
    ```
    """
    assert code_cells(text) == []
    (shown,) = markdown_cells(text)
    assert "```\nhello\n```" in shown
    assert "> ```copy\n> echo quoted\n> ```" in shown
    assert shown.endswith("```\necho copied\n```")


def test_when_a_fence_body_holds_backticks_then_the_longer_fence_is_read_whole():
    text = "````execute\ncat <<EOF\n```\nEOF\n````\n"
    assert code_cells(text) == ["%%execute\ncat <<EOF\n```\nEOF"]


# -- workshop folders: which pages, in which order ------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


ORDERS = [
    (
        "modules.yaml order",
        {
            "workshop/modules.yaml": "modules:\n  b-setup:\n    name: S\n  a-end:\n    name: E\n",
            "workshop/content/a-end.md": "end",
            "workshop/content/b-setup.md": "setup",
        },
        ["b-setup", "a-end"],
    ),
    (
        "workshop.yaml activate wins and leaves pages out",
        {
            "workshop/modules.yaml": "modules:\n  one: {}\n  two: {}\n  three: {}\n",
            "workshop/workshop.yaml": "modules:\n  activate: [three, one]\n",
            "workshop/content/one.md": "1",
            "workshop/content/two.md": "2",
            "workshop/content/three.md": "3",
        },
        ["three", "one"],
    ),
    (
        "front matter weight, pages without one last",
        {
            "workshop/content/a.md": "no weight",
            "workshop/content/b.md": "---\nweight: 20\n---\n",
            "workshop/content/c.md": "---\nweight: 10\n---\n",
        },
        ["c", "b", "a"],
    ),
    (
        "numbers in names compare as numbers",
        {"content/10-end.md": "x", "content/2-middle.md": "x", "content/1-start.md": "x"},
        ["1-start", "2-middle", "10-end"],
    ),
    (
        "a folder of pages, bundles and subfolders",
        {
            "01-intro.md": "x",
            "02-bundle/index.md": "x",
            "03-part/01-a.md": "x",
            ".hidden/x.md": "x",
            "notes.txt": "x",
        },
        ["01-intro", "02-bundle", "03-part/01-a"],
    ),
    (
        "nested modules.yaml names",
        {
            "workshop/modules.yaml": "modules:\n  exercises/02-b: {}\n  exercises/01-a: {}\n",
            "workshop/content/exercises/01-a.md": "x",
            "workshop/content/exercises/02-b.md": "x",
        },
        ["exercises/02-b", "exercises/01-a"],
    ),
]


@pytest.mark.parametrize(("case", "files", "expected"), ORDERS, ids=[c[0] for c in ORDERS])
def test_when_a_workshop_folder_is_read_then_pages_come_in_its_order(
    tmp_path, case, files, expected
):
    pages = workshop_pages(write(tmp_path, files))
    assert [p.name for p in pages] == expected
    assert all(p.path.is_file() for p in pages)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"workshop/modules.yaml": "modules:\n  gone: {}\n", "workshop/content/x.md": "x"},
            "modules.yaml lists no page that .*content has",
        ),
        ({"workshop/modules.yaml": "modules: [\n", "workshop/content/x.md": "x"}, "modules.yaml: "),
        ({"readme.adoc": "x"}, "no Markdown pages"),
    ],
)
def test_when_a_workshop_folder_is_wrong_then_the_error_says_what(tmp_path, files, message):
    with pytest.raises(WorkshopError, match=message):
        workshop_pages(write(tmp_path, files))


def test_when_sources_mix_files_and_folders_then_they_come_in_the_order_given(tmp_path):
    write(tmp_path, {"w/content/b.md": "x", "w/content/a.md": "x", "single.md": "x"})
    pages = find_pages([tmp_path / "single.md", tmp_path / "w"])
    assert [p.name for p in pages] == ["single", "a", "b"]
    with pytest.raises(WorkshopError, match="missing.md: no such file or folder"):
        find_pages([tmp_path / "missing.md"])


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["01-setup", "02-server"], ["01-setup", "02-server"]),
        (["setup", "server", "finish"], ["01-setup", "02-server", "03-finish"]),
        (["b", "part/a"], ["b", "part/a"]),
        (["part/a", "b"], ["01-part-a", "02-b"]),
    ],
)
def test_when_pages_become_notebooks_then_their_names_sort_in_page_order(names, expected):
    assert notebook_names([PageFile(name, Path(name)) for name in names]) == expected


# -- templating: Liquid, Hugo shortcodes, data variables -------------------------


def rendered(body: str, renderer: str, variables=None, pathway=None) -> str:
    return render(textwrap.dedent(body), variables or {}, pathway, renderer).text


RENDERED = [
    (
        "raw: the tags go, the content stays as written, unsubstituted",
        "classic",
        "{% raw %}\necho '{{ x }}' {% if %}\n{% endraw %}\n{{ x }}",
        {"x": "X"},
        "echo '{{ x }}' {% if %}\nX",
    ),
    (
        "data variables, old percent form included; unknown ones stay",
        "classic",
        "ns={{ session_namespace }} host={{ingress_domain}} %session_namespace% {{ unknown }}",
        {"session_namespace": "lab-1", "ingress_domain": "example.org"},
        "ns=lab-1 host=example.org lab-1 {{ unknown }}",
    ),
    (
        "{{copy}} marks inline code as copyable: it goes",
        "classic",
        "Run `ls`{{copy}} now.",
        {},
        "Run `ls` now.",
    ),
    (
        "Liquid branches are labelled quotes; a false one is marked",
        "classic",
        "{% if LANG == 'java' %}\nJava.\n{% elsif LANG == \"python\" %}\nPython.\n"
        "{% else %}\nOther.\n{% endif %}",
        {"LANG": "python"},
        "> **If `LANG == 'java'`** (false here: not run)\n>\n> Java.\n\n"
        '> **Else, if `LANG == "python"`** (true here)\n>\n> Python.\n\n'
        "> **Otherwise** (false here: not run)\n>\n> Other.\n",
    ),
    (
        "unless is the opposite of if",
        "classic",
        "{% unless LANG == 'java' %}\nNot Java.\n{% endunless %}",
        {"LANG": "go"},
        "> **Unless `LANG == 'java'`** (true here)\n>\n> Not Java.\n",
    ),
    (
        "Hugo params, both delimiters, quoted or not; unknown ones stay",
        "hugo",
        '{{< param session_name >}}.{{% param "ingress_domain" %}} {{< param nope >}}',
        {"session_name": "s1", "ingress_domain": "example.org"},
        "s1.example.org {{< param nope >}}",
    ),
    (
        "Hugo leaves Liquid alone",
        "hugo",
        "{% raw %}{{ x }}{% endraw %}",
        {"x": "X"},
        "{% raw %}{{ x }}{% endraw %}",
    ),
    (
        "admonitions are quotes under a bold title, inside list items too",
        "hugo",
        "1. Step\n\n   {{< note >}}\n   Careful.\n\n   More.\n   {{< /note >}}\n\n"
        '{{< warning title="Mind the gap" >}}Short.{{< /warning >}}\n'
        "{{% danger %}}\nHot.\n{{% /danger %}}",
        {},
        "1. Step\n\n   > **Note**\n   >\n   > Careful.\n   >\n   > More.\n\n\n"
        "> **Mind the gap**\n>\n> Short.\n\n> **Danger**\n>\n> Hot.\n",
    ),
    (
        "pathway branches: the one converted runs, the others are marked",
        "hugo",
        "{{< pathway java >}}\nJava.\n{{< /pathway >}}\n{{< pathway python >}}\nPython.\n"
        "{{< /pathway >}}",
        {},
        "> **Only on pathway `java`** (this conversion follows pathway `python`: not run)\n>\n"
        "> Java.\n\n> **Pathway `python`** (the pathway converted)\n>\n> Python.\n",
    ),
    (
        "figure, copy, highlight and escaped shortcodes",
        "hugo",
        '{{< figure src="a.png" alt="An A" >}}\n`x`{{< copy >}}\n'
        "{{< highlight python >}}\nprint(1)\n{{< /highlight >}}\n{{</* note */>}}",
        {},
        "![An A](a.png)\n`x`\n```python\nprint(1)\n```\n{{< note >}}",
    ),
    (
        "a workshop's own paired shortcode keeps its content under its name",
        "hugo",
        '{{< ifparam lang "go" >}}\nGo.\n{{< /ifparam >}}',
        {},
        '> **`ifparam lang "go"`** (a shortcode of the workshop: its content is kept as it '
        "is)\n>\n> Go.\n",
    ),
]


@pytest.mark.parametrize(
    ("case", "renderer", "body", "variables", "expected"), RENDERED, ids=[c[0] for c in RENDERED]
)
def test_when_a_page_is_templated_then_it_reads_like_this(
    case, renderer, body, variables, expected
):
    assert rendered(body, renderer, variables, pathway="python") == expected


def test_when_the_renderer_is_not_known_then_a_shortcode_makes_the_page_hugo():
    assert renderer_of("text {{ x }}") == "classic"
    assert renderer_of("text {{< param x >}}") == "hugo"
    assert renderer_of("{{< param x >}}", "classic") == "classic"


def test_when_a_branch_does_not_hold_then_its_actions_are_notes_saying_why():
    text = """\
    ---
    title: T
    ---
    {% if LANG == 'java' %}
    ```execute
    mvn package
    ```
    {% else %}
    ```execute
    echo "{{ LANG }}"
    ```
    ```copy
    kept either way
    ```
    {% endif %}
    """
    converted = read_page(textwrap.dedent(text), "p.md", Context({"LANG": "go"}))
    note, command = (s for s in converted.steps if not isinstance(s, Markdown))
    assert note == Note(
        "execute",
        "mvn package\n",
        "it is inside `{% if LANG == 'java' %}`, which is false here",
        5,
    )
    assert command == Command(("1",), 'echo "go"', "execute", 9)
    # text to copy stays in the branch's quote, in its prose
    assert "> ```copy\n> kept either way\n> ```" in converted.steps[-1].text


def test_when_templating_moves_lines_then_messages_name_the_page_s_own_lines():
    text = "{% raw %}\n\n{% endraw %}\n{% if x %}\ntext\n{% endif %}\n```dashboard:x\n```\n"
    converted = read_page(text, "p.md")
    (note,) = [s for s in converted.steps if isinstance(s, Note)]
    assert note.line == 7
    assert converted.warnings == [
        (4, "`x` has no value (give --var x=VALUE): Liquid takes it as nil")
    ]


def test_when_tags_stay_in_commands_then_the_page_lists_them_with_their_lines():
    text = """\
    Prose keeps {{ session_namespace }} quietly.

    ```execute
    kubectl get pods -n {{ session_namespace }}
    ```

    ```terminal:input
    text: "{% include secret %}"
    ```

    {% raw %}
    ```execute
    echo '{{ .Values }}'
    ```
    {% endraw %}
    """
    converted = read_page(textwrap.dedent(text), "p.md", Context(renderer="classic"))
    assert converted.leftovers == [(4, "{{ session_namespace }}"), (8, "{% include secret %}")]
    assert variable_of("{{ session_namespace }}") == "session_namespace"
    assert variable_of("{{< param ingress_domain >}}") == "ingress_domain"
    assert variable_of("{% include secret %}") is None


def test_when_a_title_holds_a_variable_then_it_is_substituted():
    converted = read_page("---\ntitle: Deploy to {{ ns }}\n---\n", "p.md", Context({"ns": "x"}))
    assert converted.title == "Deploy to x"


@pytest.mark.parametrize(
    ("condition", "variables", "expected"),
    [
        ("LANG == 'java'", {"LANG": "java"}, (True, [])),
        ("LANG != 'java'", {"LANG": "java"}, (False, [])),
        ("LANG == 'java'", {}, (False, ["LANG"])),
        ("LANG", {"LANG": ""}, (True, [])),  # only nil and false are false
        ("LANG", {}, (False, ["LANG"])),
        ("COUNT > 2", {"COUNT": "10"}, (True, [])),
        ("NAME contains 'ws'", {"NAME": "mod_wsgi"}, (True, [])),
        # right to left, as Liquid groups them: A or (B and C)
        ("A == 'x' or B == 'y' and C", {"A": "x", "B": "n"}, (True, ["C"])),
        ("A == 'x' and B == 'y' or C", {"A": "n", "C": "c"}, (False, ["B"])),
        ("LANG == empty", {"LANG": ""}, (True, [])),
        ("x | size > 2", {}, (None, [])),
    ],
)
def test_when_a_liquid_condition_is_evaluated_then_it_is_what_liquid_says(
    condition, variables, expected
):
    assert evaluate(condition, variables) == expected


# -- servers: who listens, who uses -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl http://localhost:8000/x", [Use("localhost", "8000", "http")]),
        ("curl -s 127.0.0.1:$PORT/", [Use("127.0.0.1", "$PORT", None)]),
        ("wget http://0.0.0.0:${PORT}", [Use("0.0.0.0", "$PORT", "http")]),
        ("curl https://example.com:8443/ notlocalhost:1", []),
    ],
)
def test_when_a_command_talks_to_loopback_then_its_uses_are_these(text, expected):
    assert uses(text) == expected


def test_when_a_use_has_a_numeric_port_then_it_has_a_url_to_wait_for():
    assert Use("0.0.0.0", "8000").url == "http://localhost:8000/"
    assert Use("127.0.0.1", "8000", "http").url == "http://127.0.0.1:8000/"
    assert Use("localhost", "$PORT").url is None
    assert Use("localhost", "8443", "https").url is None


@pytest.mark.parametrize(
    ("command", "ports", "until_stopped"),
    [
        ("python3 -m http.server 8123 --bind 127.0.0.1", {"8123"}, True),
        ('python3 -m http.server "$PORT"', {"$PORT"}, True),
        ("mod_wsgi-express start-server wsgi.py", {"8000"}, True),
        ("cd app\n./mvnw spring-boot:run  # the app", {"8080"}, True),
        # sent to the background, a server leaves its terminal free: nothing to track
        ("mod_wsgi-express start-server wsgi.py &", set(), False),
        ("nohup python3 -m http.server 9000", set(), False),
        ("tail -f /tmp/log", set(), True),
        ("kubectl get pods -w", set(), True),
        ("npm start", set(), True),
        ("node app.js --port 9000", {"9000"}, False),
        ("curl -s http://localhost:8000/", set(), False),
        ("ls -l", set(), False),
    ],
)
def test_when_a_command_is_read_then_its_ports_and_lifetime_are_these(
    command, ports, until_stopped
):
    assert (listens_on(command), runs_until_stopped(command)) == (ports, until_stopped)


# -- servers in the linked workshop ----------------------------------------------

SERVERS = [
    (
        "a server used from the other terminal and never stopped is --bg, ready at its URL",
        """
        ```execute-1
        mod_wsgi-express start-server wsgi.py
        ```
        ```execute-2
        curl http://localhost:8000/
        ```
        ```execute-2
        ps f
        ```
        """,
        [
            "%%execute-1 --bg --wait-url http://localhost:8000/\n"
            "mod_wsgi-express start-server wsgi.py",
            "%%execute-2\ncurl http://localhost:8000/",
            "%%execute-2\nps f",
        ],
    ),
    (
        "a port in a variable: --bg, ready as the magic decides",
        """
        ```execute-1
        python3 -m http.server "$PORT"
        ```
        ```execute-2
        curl "http://127.0.0.1:$PORT/"
        ```
        """,
        [
            '%%execute-1 --bg\npython3 -m http.server "$PORT"',
            '%%execute-2\ncurl "http://127.0.0.1:$PORT/"',
        ],
    ),
    (
        "a browser URL is a use too",
        """
        ```terminal:execute
        command: node app.js --port 9000
        ```
        ```dashboard:open-url
        url: http://localhost:9000/
        ```
        """,
        [
            "%%execute-1 --bg --wait-url http://localhost:9000/\nnode app.js --port 9000",
            "%terminal open-url http://localhost:9000/",  # a JupyterLab tab
        ],
    ),
    (
        "a server with no known port, used on some port",
        """
        ```execute-2
        npm start
        ```
        ```execute-1
        curl -s localhost:3000
        ```
        """,
        [
            "%%execute-2 --bg --wait-url http://localhost:3000/\nnpm start",
            "%%execute-1\ncurl -s localhost:3000",
        ],
    ),
    (
        "a command that ended is no server: a port used elsewhere is not its port",
        """
        ```execute-1
        cd /tmp
        ```
        ```execute-2
        curl localhost:8080
        ```
        ```execute-1
        curl localhost:8080
        ```
        """,
        [
            "%%execute-1\ncd /tmp",
            "%%execute-2\ncurl localhost:8080",
            "%%execute-1\ncurl localhost:8080",
        ],
    ),
    (
        "a client is no server, even when a browser opens its port",
        """
        ```execute-2
        curl -s localhost:8080
        ```
        ```dashboard:open-url
        url: http://localhost:8080/
        ```
        ```execute-2
        echo next
        ```
        """,
        [
            "%%execute-2\ncurl -s localhost:8080",
            "%terminal open-url http://localhost:8080/",
            "%%execute-2\necho next",
        ],
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), SERVERS, ids=[c[0] for c in SERVERS])
def test_when_a_server_is_used_then_its_cell_does_not_hang(case, text, expected):
    assert code_cells(text) == expected


def test_when_a_command_is_typed_into_a_busy_terminal_then_it_runs_after_the_interrupt():
    text = """
    ```execute-1
    python3 -m http.server 8123
    ```

    Restart it elsewhere (typed while the first one runs):

    ```execute-1
    python3 -m http.server 8123 --directory /tmp
    ```

    ```execute-1
    <ctrl-c>
    ```

    ```execute-2
    curl localhost:8123
    ```
    """
    (notebook,) = convert([page(text)])
    cells = [(c.cell_type, c.source) for c in notebook.cells][1:]
    assert cells[0] == ("code", "%%execute-1 --bg\npython3 -m http.server 8123")
    kind, moved_note = cells[1]
    assert kind == "markdown"
    assert moved_note.startswith("Restart it elsewhere (typed while the first one runs):\n\n")
    assert "`python3 -m http.server 8123 --directory /tmp`, is typed into terminal 1 while" in (
        moved_note
    )
    assert cells[2] == ("code", "%%execute-1\n<ctrl-c>")
    assert cells[3][0] == "markdown" and "runs now" in cells[3][1]
    assert cells[4] == (
        "code",
        "%%execute-1 --bg --wait-url http://localhost:8123/\n"
        "python3 -m http.server 8123 --directory /tmp",
    )
    assert cells[5] == ("code", "%%execute-2\ncurl localhost:8123")
    linked, log = link_with_log([page(text)])
    assert log == [
        "page.md:8: `python3 -m http.server 8123 --directory /tmp` is typed into busy "
        "terminal 1: it runs after the interrupt at page.md:12"
    ]


def test_when_the_busy_server_is_known_by_its_use_then_a_command_typed_after_waits_too():
    text = """
    ```execute-1
    node app.js --port 9000
    ```
    ```execute-2
    curl localhost:9000
    ```
    ```execute-1
    echo after
    ```
    ```terminal:interrupt
    ```
    """
    assert code_cells(text) == [
        "%%execute-1 --bg --wait-url http://localhost:9000/\nnode app.js --port 9000",
        "%%execute-2\ncurl localhost:9000",
        "%%execute-1\n<ctrl-c>",
        "%%execute-1\necho after",
    ]


def test_when_nothing_stops_the_server_then_a_command_typed_ahead_is_a_note():
    text = "```execute-1\ntail -f /var/log/syslog\n```\n\n```execute-1\necho never\n```\n"
    assert code_cells(text) == ["%%execute-1 --bg\ntail -f /var/log/syslog"]
    (note,) = notes([page(text)])
    assert note.startswith("page.md:5: `execute-1` kept as a note: it is typed into terminal 1")
    assert "no later step stops that, so on the original platform it never runs" in note


def test_when_a_server_is_stopped_on_a_later_page_then_the_typed_command_moves_there():
    first = page("```execute-1\npython3 -m http.server 8123\n```\n```execute-1\nls\n```\n", "1.md")
    second = page("```execute-1\n<ctrl-c>\n```\n", "2.md")
    one, two = convert([first, second], join=False)
    assert [c.source for c in one.cells if c.cell_type == "code"] == [
        LOAD_EXTENSION,
        "%%execute-1 --bg\npython3 -m http.server 8123",
    ]
    assert [c.source for c in two.cells if c.cell_type == "code"] == [
        LOAD_EXTENSION,
        "%%execute-1\n<ctrl-c>",
        "%%execute-1\nls",
    ]


# -- workshops: pathways, titles, variables, front matter ---------------------------

HUGO_CONFIG = """\
pathways:
  default: shell
  paths:
    shell:
      params:
      - name: tool
        value: bash
      steps: [intro, setup, server]
    python:
      steps: [intro, server]
modules:
- name: intro
  title: Introduction
params:
- name: port
  value: 8080
- name: tool
  value: sh
"""
HUGO_PAGES = {
    "workshop/config.yaml": HUGO_CONFIG,
    "workshop/content/intro/index.md": "---\ntitle: Intro in front matter\nweight: 3\n---\n",
    "workshop/content/setup.md": "---\ntitle: Setting up\nweight: 2\n---\n",
    "workshop/content/server/_index.md": "---\nweight: 1\n---\n",
    "workshop/content/draft.md": "---\nweight: 0\n---\n",
}


def test_when_a_hugo_workshop_has_pathways_then_the_default_one_decides_pages_and_order(
    tmp_path,
):
    pages = workshop_pages(write(tmp_path, HUGO_PAGES))
    assert [(p.name, p.title) for p in pages] == [
        ("intro", "Introduction"),
        ("setup", None),  # the front matter's title is read with the page
        ("server", None),
    ]
    workshop = pages[0].workshop
    assert (workshop.pathway, workshop.renderer) == ("shell", "hugo")
    assert workshop.variables == {"port": "8080", "tool": "bash", "pathway_name": "shell"}
    assert workshop.root == tmp_path and workshop.exercises is None


def test_when_a_pathway_is_chosen_then_its_steps_and_params_are_used(tmp_path):
    pages = workshop_pages(write(tmp_path, HUGO_PAGES), {"pathway_name": "python"})
    assert [p.name for p in pages] == ["intro", "server"]
    assert pages[0].workshop.variables["tool"] == "sh"
    with pytest.raises(WorkshopError, match="has no pathway 'go'; choose one of shell, python"):
        workshop_pages(tmp_path, {"pathway_name": "go"})


def test_when_a_listed_page_is_missing_then_it_is_left_out_with_a_warning(tmp_path):
    files = dict(HUGO_PAGES)
    del files["workshop/content/setup.md"]
    warnings: list[str] = []
    pages = workshop_pages(write(tmp_path, files), warnings=warnings)
    assert [p.name for p in pages] == ["intro", "server"]
    (warning,) = warnings
    assert warning.endswith(
        "config.yaml lists 'setup', but "
        + str(tmp_path / "workshop" / "content")
        + " has no setup.md: left out"
    )


def test_when_a_classic_workshop_is_read_then_modules_yaml_names_and_vars_are_used(tmp_path):
    files = {
        "workshop/modules.yaml": "modules:\n  b-setup:\n    name: Setup from modules.yaml\n"
        "  a-end: {}\nconfig:\n  vars:\n  - name: LANG\n    value: python\n"
        "  - name: PORT\n    value: 8000\n",
        "workshop/workshop.yaml": "vars:\n  LANG: java\n",
        "workshop/content/a-end.md": "end",
        "workshop/content/b-setup.md": "---\ntitle: Setup from front matter\n---\n",
        "exercises/hello.txt": "hi",
    }
    pages = workshop_pages(write(tmp_path, files))
    assert [(p.name, p.title) for p in pages] == [
        ("b-setup", "Setup from modules.yaml"),
        ("a-end", None),
    ]
    workshop = pages[0].workshop
    assert workshop.variables == {"LANG": "java", "PORT": "8000"}
    assert (workshop.renderer, workshop.exercises) == ("classic", tmp_path / "exercises")


def test_when_a_single_page_lies_in_a_workshop_then_it_knows_its_workshop(tmp_path):
    write(tmp_path, {**HUGO_PAGES, "exercises/x.txt": "x"})
    (single,) = find_pages([tmp_path / "workshop" / "content" / "setup.md"])
    assert single.workshop.exercises == (tmp_path / "exercises").resolve()
    assert single.workshop.renderer == "hugo"
    (bundle,) = find_pages([tmp_path / "workshop" / "content" / "intro" / "index.md"])
    assert (bundle.name, bundle.title) == ("intro", "Introduction")  # config.yaml's title


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("exercises/01-installing-mod_wsgi", "Installing mod_wsgi"),
        ("workshop-overview", "Workshop overview"),
        ("99", "99"),
    ],
)
def test_when_a_page_has_no_title_then_its_file_name_gives_one(name, title):
    assert title_from_name(name) == title


def test_when_front_matter_is_toml_then_it_is_read():
    meta, body, offset = split_front_matter('+++\ntitle = "Refactor"\nweight = 4\n+++\nbody\n')
    assert (meta, body, offset) == ({"title": "Refactor", "weight": 4}, "body\n", 4)


# -- images ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("a.png", "a.png"),
        ("<my pic.png>", "my pic.png"),
        ("dir/a%20b.png?v=2#x", "dir/a b.png"),
        ("/workshop/content/x.png", "/workshop/content/x.png"),
        ("https://example.com/a.png", None),
        ("data:image/png;base64,xx", None),
        ("//cdn/a.png", None),
        ("#top", None),
    ],
)
def test_when_an_image_link_is_read_then_it_names_this_file(url, path):
    assert local_path(url) == path


def test_when_images_are_rewritten_then_both_forms_change_and_code_does_not():
    text = (
        '![A](a.png "title") and <img width=3 src="b.png"> and <IMG SRC=c.png>\n'
        "`![not](code.png)`\n\n```\n![not](fence.png)\n```\n\n    ![not](indented.png)\n\n"
        "![remote](https://x/r.png)"
    )
    assert image_links(text) == ["a.png", "b.png", "c.png", "https://x/r.png"]
    moved = rewrite_images(text, lambda url: None if "://" in url else f"images/{url}")
    assert moved.splitlines()[0] == (
        '![A](images/a.png "title") and <img width=3 src="images/b.png"> and '
        '<IMG SRC="images/c.png">'
    )
    assert moved.splitlines()[1:] == text.splitlines()[1:]
    assert rewrite_images("![x](a.png)", lambda url: "my images/a.png") == "![x](<my images/a.png>)"


# -- exercises ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cd ~/exercises/hello", 'cd "$EXERCISES"/hello'),
        ("cd ~/exercises", 'cd "$EXERCISES"'),
        ('cat "$HOME/exercises/a b.txt"', 'cat "$EXERCISES/a b.txt"'),
        ("ls ${HOME}/exercises;ls", 'ls "$EXERCISES";ls'),
        (
            "echo '~/exercises' ~/exercises2 x~/exercises",
            "echo '~/exercises' ~/exercises2 x~/exercises",
        ),
        ("A=~/exercises/x make", 'A="$EXERCISES"/x make'),
        ("echo \\~/exercises", "echo \\~/exercises"),
    ],
)
def test_when_a_command_names_the_home_exercises_then_it_reads_the_copy(command, expected):
    assert rewrite_exercises(command) == expected


# -- whole fixture workshops, converted on disk -------------------------------------

WORKSHOPS = Path(__file__).parent / "fixtures" / "workshops"


def cells_of(path: Path) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]


def images_shown(path: Path) -> list[Path]:
    """The files a notebook's Markdown cells show, as paths from its folder."""
    shown = []
    for kind, source in cells_of(path):
        if kind == "markdown":
            shown += [
                path.parent / local_path(url) for url in image_links(source) if local_path(url)
            ]
    return shown


def test_when_the_hugo_workshop_is_joined_then_it_reads_like_the_original(tmp_path):
    out = tmp_path / "hugo.ipynb"
    conversion = convert_files([WORKSHOPS / "hugo"], out, {"server_port": "48123"})
    cells = cells_of(out)
    headings = [source for kind, source in cells if kind == "markdown" and source.startswith("# ")]
    # config.yaml's pathway decides the pages and their order (not weights, not
    # names); config.yaml's title beats the front matter's; draft.md is left out
    assert headings == [
        "# Workshop Overview",
        "# Setting up",
        "# A web server",
        "# Workshop Summary",
    ]
    code = [source for kind, source in cells if kind == "code"]
    assert code == [
        LOAD_EXTENSION,
        '%%execute-all\nif [ -z "${EXERCISES:-}" ]; then\n'
        '    export EXERCISES="$PWD/exercises" && cd "$EXERCISES"\nfi',
        "%%execute-all\npwd",
        '%%execute-1\ncat "$EXERCISES"/site/index.html',
        "%%execute-1 --bg --wait-url http://127.0.0.1:48123/\n"
        "python3 -m http.server 48123 --bind 127.0.0.1 --directory site",
        "%%execute-2\ncurl -sf http://127.0.0.1:48123/index.html",
        "%terminal open-url http://localhost:48123/",  # dashboard:open-url: a JupyterLab tab
        '%%execute-2\necho "Hello from the summary"',  # the pathway's param, a global one
        "%%execute-2 --bg\npython3 -q",  # an interactive program: the next blocks go to it
        '%%execute-2\nanswer = 6 * 7\nprint("the answer is", answer)',
        "%%execute-2\nexit()",
    ]
    prose = "\n".join(source for kind, source in cells if kind == "markdown")
    assert "> **Note**\n>\n> Every command runs in one of two terminals" in prose
    assert "> **Leave it running**\n>\n> This page does not stop the server" in prose
    assert "> **Danger**" in prose and "Say goodbye, Hello-style:" in prose
    assert "> **Only on pathway `python`** (this conversion follows pathway `shell`" in prose
    assert "Text to copy looks like `echo`." in prose
    assert "```\n{{< note >}}\n```" in prose  # an escaped shortcode, shown as written

    # every image that resolves in the original resolves here; names stay unique
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        "layout.png",
        "logo.png",
        "terminals-2.png",
        "terminals.png",
    ]
    shown = images_shown(out)
    assert [p.name for p in shown] == [
        "terminals.png",
        "logo.png",
        "layout.png",
        "missing.png",
        "terminals-2.png",
    ]
    assert [p.is_file() for p in shown] == [True, True, True, False, True]
    assert (tmp_path / "images" / "terminals.png").read_bytes() == (
        WORKSHOPS / "hugo/workshop/content/overview/terminals.png"
    ).read_bytes()
    (missing,) = [w for w in conversion.warnings if "image" in w]
    assert missing.endswith(
        "setup.md: image missing.png not found (looked beside the page and "
        "in the workshop's folders); the link is left as written"
    )
    assert not [w for w in conversion.warnings if "left as written in a code cell" in w]
    assert (tmp_path / "exercises" / "site" / "index.html").is_file()
    assert conversion.exercises == tmp_path / "exercises"


def test_when_the_hugo_workshop_becomes_a_folder_then_each_notebook_starts_with_its_title(
    tmp_path,
):
    convert_files([WORKSHOPS / "hugo"], tmp_path / "out", {"pathway_name": "python"})
    names = sorted(p.name for p in (tmp_path / "out").glob("*.ipynb"))
    assert names == ["overview.ipynb", "server.ipynb"]
    first, second = (cells_of(tmp_path / "out" / name) for name in names)
    assert first[0] == ("markdown", "# Workshop Overview")
    assert second[0] == ("markdown", "# A web server")
    assert [source for kind, source in first if kind == "code"][2:] == [
        "%%execute\npython3 --version"
    ]
    assert second[2][1].startswith("*On the original platform this workshop's `exercises/`")
    assert "> **Pathway `python`** (the pathway converted)" in "\n".join(s for _, s in first)
    assert all(p.is_file() for p in images_shown(tmp_path / "out" / "server.ipynb"))


def test_when_the_classic_workshop_is_converted_then_liquid_and_modules_yaml_apply(tmp_path):
    conversion = convert_files([WORKSHOPS / "classic"], tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").glob("*.ipynb"))
    assert names == [
        "01-workshop-overview.ipynb",
        "02-exercises-01-templating.ipynb",
        "03-exercises-02-typed-ahead.ipynb",
        "04-workshop-summary.ipynb",
    ]
    titles = [cells_of(tmp_path / "out" / name)[0][1] for name in names]
    assert titles == ["# Workshop Overview", "# Templating", "# Typed Ahead", "# Workshop Summary"]
    templating = cells_of(tmp_path / "out" / names[1])
    code = [source for kind, source in templating if kind == "code"][2:]
    assert code == [
        '%%execute\necho "shell branch"',  # workshop.yaml's LANGUAGE beats modules.yaml's
        "%%execute\necho '{{ not_a_variable }}'",
        '%%execute\necho "namespace={{ session_namespace }}"',
    ]
    prose = "\n".join(source for kind, source in templating if kind == "markdown")
    assert "Your session's namespace is {{ session_namespace }}:" in prose
    assert "Inline code to copy: `ls ~/exercises`." in prose
    assert [p.is_file() for p in images_shown(tmp_path / "out" / names[1])] == [True, True]
    assert images_shown(tmp_path / "out" / names[0])[0].name == "banner.png"
    leftover = [w for w in conversion.warnings if "left as written in a code cell" in w]
    assert [w.split("/")[-1] for w in leftover] == [
        "01-templating.md:28: `{{ session_namespace }}` is left as written in a code cell; "
        "give --var session_namespace=VALUE"
    ]
    typed = [note for note in conversion.notes if "typed into busy terminal 1" in note]
    assert len(typed) == 1 and typed[0].endswith("02-typed-ahead.md:14")

    again = convert_files(
        [WORKSHOPS / "classic"], tmp_path / "again", {"session_namespace": "ns-1"}
    )
    templating = cells_of(tmp_path / "again" / names[1])
    assert '%%execute\necho "namespace=ns-1"' in [source for _, source in templating]
    assert "Your session's namespace is ns-1:" in "\n".join(source for _, source in templating)
    assert not [w for w in again.warnings if "left as written" in w]


def test_when_the_legacy_workshop_is_converted_then_modules_yaml_names_its_pages(tmp_path):
    convert_files([WORKSHOPS / "legacy"], tmp_path / "legacy.ipynb")
    headings = [s for k, s in cells_of(tmp_path / "legacy.ipynb") if s.startswith("# ")]
    assert headings == ["# Setup", "# A server", "# Finish"]


def test_when_a_site_path_names_hugo_static_files_then_the_image_is_found(tmp_path):
    """Educates serves a Hugo workshop under /workshop/content/: static files too."""
    write(
        tmp_path,
        {
            "workshop/content/intro.md": "![Flower](/workshop/content/flower.png)\n"
            "![Logo](/logo.png)\n![Here](here.png)\n",
            "workshop/content/here.png": "here",
        },
    )
    (tmp_path / "workshop" / "static").mkdir()
    (tmp_path / "workshop" / "static" / "flower.png").write_text("flower")
    (tmp_path / "workshop" / "static" / "logo.png").write_text("logo")
    conversion = convert_files([tmp_path], tmp_path / "out.ipynb")
    assert conversion.warnings == []
    shown = images_shown(tmp_path / "out.ipynb")
    assert [p.read_text() for p in shown] == ["flower", "logo", "here"]


def test_when_a_workshop_has_no_configuration_then_one_shortcode_makes_it_all_hugo(tmp_path):
    """A go template in a command of a Hugo workshop is not a Liquid variable."""
    write(
        tmp_path,
        {
            "workshop/content/a.md": "{{< note >}}\nHugo.\n{{< /note >}}\n",
            "workshop/content/b.md": "```execute\nkubectl get pods -o template "
            "--template '{{range .items}}{{.metadata.name}}{{end}}'\n```\n",
        },
    )
    conversion = convert_files([tmp_path], tmp_path / "out.ipynb")
    assert conversion.warnings == []
    assert workshop_pages(tmp_path)[0].workshop.renderer == "hugo"


@pytest.mark.parametrize(
    "command",
    [
        "kubectl expose deployment blog --port 8080",
        "docker run -d -p 8080:80 nginx",
        "docker run --detach -p 8080:80 nginx",
        "PORT=8080 npm install",
        "./mvnw package -Dserver.port=8080",
        "curl localhost:8080",
    ],
)
def test_when_a_command_cannot_listen_then_a_use_of_its_port_leaves_it_alone(command):
    text = f"```execute-1\n{command}\n```\n```execute-2\ncurl localhost:8080\n```\n"
    text += "```execute-1\necho next\n```\n"
    assert code_cells(text) == [
        f"%%execute-1\n{command}",
        "%%execute-2\ncurl localhost:8080",
        "%%execute-1\necho next",
    ]


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("```execute-3\nls\n```", ["%%execute-3\nls"]),
        ("```terminal:execute\ncommand: ls\nsession: 3\n```", ["%%execute-3\nls"]),
        (
            "```dashboard:create-dashboard\nname: DB\nurl: terminal:db\n```\n"
            "```terminal:execute\ncommand: psql\nsession: db\n```\n"
            "```terminal:interrupt\nsession: db\n```",
            ["%%execute --terminal db --bg\npsql", "%%execute --terminal db\n<ctrl-c>"],
        ),
    ],
)
def test_when_a_page_uses_a_third_or_named_terminal_then_the_cells_address_it(text, cells):
    notebook = convert([page(text)])[0]
    assert [c.source for c in notebook.cells if c.cell_type == "code"][1:] == cells
    prose = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "> **Not run" not in prose
