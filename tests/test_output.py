"""Output handling as pure-function tables: no bash, no kernel."""

from __future__ import annotations

import pytest

from modwsgi_magics.engine.output import (
    OutputBudget,
    TailBuffer,
    TerminalDecoder,
    plain_text,
    strip_controls,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain\r\n", "plain\n"),
        ("\x1b[31mred\x1b[0m\r\n", "\x1b[31mred\x1b[0m\n"),  # colours stay
        ("\x1b[?2004hbracketed\x1b[?2004l", "bracketed"),  # modes go
        ("\x1b]0;title\x07text", "text"),  # window title goes
        ("\x1b[2K\x1b[1Gline", "line"),  # cursor moves go
        ("\x1b(Bcharset", "charset"),
        ("bell\x07 and nul\x00", "bell and nul"),
        (" 10%\r 50%\r100%\n", " 10%\r 50%\r100%\n"),  # \r is Jupyter's to render
        ("tab\tkept", "tab\tkept"),
    ],
)
def test_when_terminal_text_is_cleaned_then_only_colours_and_layout_remain(raw, shown):
    assert strip_controls(raw) == shown


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("\x1b[1mbold\x1b[0m", "bold"),
        ("Downloading  10%\rDownloading 100%\ndone", "Downloading 100%\ndone"),
        ("trailing\r", "trailing"),
        ("a\nb", "a\nb"),
    ],
)
def test_when_plain_text_is_asked_then_colours_go_and_progress_shows_its_end(text, plain):
    assert plain_text(text) == plain


@pytest.mark.parametrize(
    "chunks",
    [
        [b"\xc3", b"\xa9t\xc3\xa9\r\n"],  # UTF-8 character split
        [b"\x1b", b"[31m", b"\xc3\xa9t\xc3\xa9\x1b[0m\r", b"\n"],  # escape and \r\n split
        [b"\x1b]0;ti", b"tle\x07\xc3\xa9t\xc3\xa9\r\n"],  # OSC split
    ],
)
def test_when_chunks_split_sequences_then_decoding_matches_one_piece(chunks):
    decoder = TerminalDecoder()
    text = "".join(decoder.feed(chunk) for chunk in chunks) + decoder.flush()
    assert plain_text(text) == "été\n"


def test_when_output_is_binary_then_it_decodes_with_replacement_characters():
    decoder = TerminalDecoder()
    text = decoder.feed(bytes(range(256))) + decoder.flush()
    assert "\ufffd" in text
    assert "\x00" not in text and "\x1b" not in text.replace("\x1b[", "")


def test_when_tail_buffer_overflows_then_it_keeps_the_last_characters_and_counts_the_rest():
    tail = TailBuffer(10)
    for line in ["line1\n", "line2\n", "line3\n"]:
        tail.append(line)
    assert tail.text() == "ne2\nline3\n"
    assert tail.dropped_chars == 8 and tail.dropped_lines == 1
    assert tail.since(tail.end - 6) == "line3\n"


def test_when_output_fits_the_budget_then_everything_is_shown_live():
    budget = OutputBudget(100)
    shown = budget.feed("a\n" * 10)
    assert shown == "a\n" * 10
    assert budget.finish() == "" and budget.omitted == 0


def test_when_output_exceeds_the_budget_then_head_marker_and_tail_are_shown():
    budget = OutputBudget(40, hint="; see more")
    lines = "".join(f"{n:03}\n" for n in range(100))  # 400 characters
    live = budget.feed(lines)
    end = budget.finish()
    assert live == lines[:20]
    assert end.endswith("099\n") and "left out; see more" in end
    marker = end.splitlines()[1]
    assert marker.startswith("[... ") and "lines" in marker
    kept = budget.kept()
    assert len(kept) <= 40 + len(marker) + 2
    assert budget.finish() == end  # finishing twice changes nothing
