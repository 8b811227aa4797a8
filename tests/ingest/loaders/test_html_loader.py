"""HtmlLoader: sections at h1/h2, dropped chrome, declared charsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoaderError
from ingest.loaders.html import HtmlLoader, decode_html

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Travel  Policy</title>
<style>p { color: red }</style><script>var token = "abc";</script></head>
<body>
<header>Company intranet</header>
<nav><a href="/">Home</a></nav>
<p>Applies to all
   staff.</p>
<h1>Booking <em>flights</em></h1>
<p>Use the portal.</p>
<table><tr><th>Class</th><th>Allowed</th></tr><tr><td>Economy</td><td>Always</td></tr></table>
<h3>Exceptions</h3><p>Ask your manager.</p>
<!-- internal note: do not publish -->
<h2>Hotels</h2>
<ul><li>Max 150 EUR</li><li>Breakfast included</li></ul>
<noscript>Enable JS</noscript><template><p>hidden</p></template>
<footer>Copyright</footer>
</body></html>"""


@pytest.fixture
def loader() -> HtmlLoader:
    return HtmlLoader()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_sections_split_at_h1_and_h2(tmp_path, loader):
    doc = loader.load(write(tmp_path, "travel.html", PAGE))
    assert doc.title == "Travel Policy"
    assert [(page.number, page.heading) for page in doc.pages] == [
        (1, None),
        (2, "Booking flights"),
        (3, "Hotels"),
    ]
    assert doc.pages[0].text == "Applies to all staff."
    assert doc.pages[1].text == (
        "Booking flights\n\nUse the portal.\n\nClass: Economy; Allowed: Always\n\n"
        "Exceptions\n\nAsk your manager."
    )
    assert doc.pages[2].text == "Hotels\n\nMax 150 EUR\nBreakfast included"


def test_chrome_scripts_and_comments_are_dropped(tmp_path, loader):
    text = "\n".join(page.text for page in loader.load(write(tmp_path, "t.htm", PAGE)).pages)
    for dropped in (
        "intranet",
        "Home",
        "token",
        "color",
        "internal note",
        "Enable JS",
        "hidden",
        "Copyright",
        "Travel",
    ):
        assert dropped not in text


def test_title_falls_back_to_first_h1_then_stem(tmp_path, loader):
    with_h1 = write(tmp_path, "a.html", "<p>x</p><h2>Sub</h2><h1>Main  Heading</h1><p>y</p>")
    assert loader.load(with_h1).title == "Main Heading"
    without = write(tmp_path, "release-notes.html", "<title>  </title><p>Only text</p>")
    assert loader.load(without).title == "release-notes"


def test_pre_keeps_its_line_breaks(tmp_path, loader):
    doc = loader.load(write(tmp_path, "p.html", "<p>Run:</p><pre>make build\nmake test</pre>"))
    assert doc.pages[0].text == "Run:\n\nmake build\nmake test"


def test_br_is_a_line_break(tmp_path, loader):
    doc = loader.load(write(tmp_path, "br.html", "<p>Street 1<br>1000 City</p>"))
    assert doc.pages[0].text == "Street 1\n1000 City"


def test_declared_charset_is_used(tmp_path, loader):
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me</p></body>'
    doc = loader.load(write(tmp_path, "latin.html", html.encode("latin-1")))
    assert doc.pages[0].text == "Café crème"


def test_http_equiv_charset_is_used(tmp_path, loader):
    html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "<p>\u201cquoted\u201d</p>"
    )
    doc = loader.load(write(tmp_path, "cp.html", html.encode("cp1252")))
    assert doc.pages[0].text == "\u201cquoted\u201d"


def test_undeclared_bad_bytes_fall_back_to_utf8_with_replacement():
    assert decode_html(b"<p>ok \xff bad</p>") == "<p>ok \ufffd bad</p>"
    assert decode_html(b'<meta charset="no-such-codec"><p>\xc3\xa9</p>').endswith("<p>é</p>")


def test_utf16_with_bom():
    data = "<p>héllo</p>".encode("utf-16")
    assert decode_html(data) == "<p>héllo</p>"


def test_empty_and_blank_files(tmp_path, loader):
    with pytest.raises(LoaderError, match=r"^file is empty$"):
        loader.load(write(tmp_path, "empty.html", b""))
    with pytest.raises(LoaderError, match=r"^document has no text$"):
        loader.load(
            write(
                tmp_path,
                "blank.html",
                "<html><head><title>T</title></head>"
                "<body><script>x()</script><nav>menu</nav></body></html>",
            )
        )


def test_deep_nesting_does_not_recurse(tmp_path, loader):
    html = "<div>" * 3000 + "deep text" + "</div>" * 3000
    assert loader.load(write(tmp_path, "deep.html", html)).pages[0].text == "deep text"
