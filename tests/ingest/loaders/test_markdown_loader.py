"""MarkdownLoader: front matter, sections at # and ##, fenced code, link cleanup."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoaderError
from ingest.loaders.markdown import MarkdownLoader, split_front_matter

DOC = """---
title: Onboarding Guide
tags: [hr, it]
---
Welcome aboard. See the [handbook](https://intranet/handbook) first.

# Accounts

Ask IT for a laptop. ![Laptop photo](img/laptop.png)
<!-- TODO: secret admin password is hunter2 -->

### Email
Use Outlook.

## VPN setup

```bash
# this is a shell comment, not a heading
## neither is this
vpn connect
```

Done.
"""


@pytest.fixture
def loader() -> MarkdownLoader:
    return MarkdownLoader()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sections_headings_and_cleanup(tmp_path, loader):
    doc = loader.load(write(tmp_path, "onboarding.md", DOC))
    assert doc.title == "Onboarding Guide"
    assert [(page.number, page.heading) for page in doc.pages] == [
        (1, None),
        (2, "Accounts"),
        (3, "VPN setup"),
    ]
    assert doc.pages[0].text == "Welcome aboard. See the handbook first."
    assert doc.pages[1].text == (
        "# Accounts\n\nAsk IT for a laptop. Laptop photo\n\n### Email\nUse Outlook."
    )
    assert doc.pages[2].text.startswith("## VPN setup\n\n```bash\n# this is a shell comment")
    assert doc.pages[2].text.endswith("vpn connect\n```\n\nDone.")


def test_front_matter_is_not_text_and_comments_are_dropped(tmp_path, loader):
    text = "\n".join(p.text for p in loader.load(write(tmp_path, "o.md", DOC)).pages)
    assert "tags:" not in text and "Onboarding Guide" not in text
    assert "hunter2" not in text and "<!--" not in text
    assert "https://" not in text and "img/laptop.png" not in text


def test_title_falls_back_to_first_h1_then_stem(tmp_path, loader):
    doc = loader.load(write(tmp_path, "a.md", "## Minor\ntext\n# [Main](x.html) Title #\nmore"))
    assert doc.title == "Main Title"
    assert [page.heading for page in doc.pages] == ["Minor", "Main Title"]
    assert loader.load(write(tmp_path, "notes-2024.md", "## Only minor\ntext")).title == (
        "notes-2024"
    )


def test_bad_front_matter_yaml_is_ignored(tmp_path, loader):
    doc = loader.load(write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\n# Real\nbody"))
    assert doc.title == "Real"
    assert doc.pages[0].text == "# Real\nbody"


def test_front_matter_without_title(tmp_path, loader):
    doc = loader.load(write(tmp_path, "plain.md", "---\nauthor: Ann\n---\nJust text."))
    assert doc.title == "plain"
    assert [(page.number, page.heading, page.text) for page in doc.pages] == [
        (1, None, "Just text.")
    ]


def test_split_front_matter_only_at_the_start():
    assert split_front_matter("text\n---\ntitle: x\n---\n") == (None, "text\n---\ntitle: x\n---\n")
    assert split_front_matter("---\ntitle: 2024\n---\nrest") == ("2024", "rest")


def test_hash_without_space_and_indented_code_are_not_headings(tmp_path, loader):
    doc = loader.load(write(tmp_path, "h.md", "#hashtag line\n\n    # indented code\ntext"))
    assert len(doc.pages) == 1 and doc.pages[0].heading is None


def test_tilde_fence_and_longer_closing_fence(tmp_path, loader):
    text = "~~~~\n# inside\n~~~\n# still inside\n~~~~~\n# Outside\nx"
    doc = loader.load(write(tmp_path, "f.md", text))
    assert [page.heading for page in doc.pages] == [None, "Outside"]
    assert doc.pages[0].text.count("inside") == 2


def test_crlf_and_bom(tmp_path, loader):
    path = tmp_path / "win.md"
    path.write_bytes("\ufeff# Title\r\nLine one\r\n".encode())
    doc = loader.load(path)
    assert doc.title == "Title"
    assert doc.pages[0].text == "# Title\nLine one"


def test_empty_and_blank(tmp_path, loader):
    with pytest.raises(LoaderError, match=r"^file is empty$"):
        loader.load(write(tmp_path, "e.md", ""))
    with pytest.raises(LoaderError, match=r"^document has no text$"):
        loader.load(write(tmp_path, "b.md", "---\ntitle: Only meta\n---\n\n<!-- x -->\n"))
