"""Issue 28 §2: no page shows a non-administrator an English sentence or an internal id (a field, state, trigger or
role id, a template key); the pages are read as the council, a group lead and a department clerk see them, after a
sweep, a comment, a refused move and bad input."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from test_web import post, signed_in, web  # noqa: F401  (the fixture)

from workflow import service

# Three Latin words in a row is a sentence (or its start); a snake_case word is an internal id.
SENTENCE = re.compile(r"[A-Za-z][A-Za-z'’]+(?:[ ,:;]+[A-Za-z][A-Za-z'’]+){2,}")
INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b")


def visible_text(page: str) -> str:
    """The text a person reads: no tags, scripts, styles or attribute values (hrefs, form field names)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def english(page: str) -> list[str]:
    text = visible_text(page)
    return sorted(set(SENTENCE.findall(text)) | set(INTERNAL.findall(text)))


@pytest.fixture
def lived_in(web):  # noqa: F811  (the fixture)
    """web's items with some life in them: a comment, 督办 by the sweep, an item of the department."""
    store, clock, client, (a, b) = web
    later = clock.t + timedelta(days=40)
    service.comment(store, "huang.bo", a, "调研安排请尽快确定。", clock.t)
    service.sweep(store, later)
    clock.t = later
    return store, clock, client, (a, b)


@pytest.mark.parametrize("code", ["li.ming", "zhao.hua", "huang.bo"])
def test_no_page_speaks_english_or_shows_an_id_to_a_non_administrator(lived_in, code):
    store, clock, client, (a, b) = lived_in
    c = signed_in(client, code)
    paths = ["/", "/done", "/involved", "/search", "/search?q=大气", "/search?q=%07x", "/news", f"/items/{a}",
             f"/items/{b}", "/items/99999", "/no/such/page", "/definitions", "/items/new", "/board", "/orgs"]
    found = {}
    for path in paths:
        r = c.get(path)
        if words := english(r.text):
            found[path] = words
    # a refused move (a required value missing) and a move on a stale form re-render the page with the reason
    for data in ({"trigger": "adopt_plan", "version": "2", "comment": ""}, {"trigger": "adopt_plan", "version": "1"}):
        r = post(c, f"/items/{a}", f"/items/{a}/advance", data)
        if words := english(r.text):
            found[f"POST advance {data}"] = words
    assert found == {}, found


def test_the_check_itself_finds_english_and_ids():
    assert english("<p>the time is ahead of the clock</p>") == ["the time is ahead of the clock"]
    assert english("<td>调研报告（research_report）</td>") == ["research_report"]
    assert english('<a href="/items/1?sort=due_at">导出：CSV Excel</a> 王芳（wang.fang）') == []
