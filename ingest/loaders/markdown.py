"""Markdown loader: front matter title, sections split at level 1-2 ATX headings."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .base import DEFAULT_LIMITS, LoadedDocument, LoaderError, LoadLimits, Page, is_binary
from .titles import MAX_TITLE_CHARS, choose_title

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Remove a leading YAML front matter block; return (its title, the rest)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    title = None
    try:
        meta = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        meta = None
    if isinstance(meta, dict) and isinstance(meta.get("title"), str | int | float):
        title = " ".join(str(meta["title"]).split())[:MAX_TITLE_CHARS].strip() or None
    return title, text[match.end() :]


def inline_cleanup(text: str) -> str:
    """`![alt](url)` -> alt and `[text](url)` -> text."""
    return _LINK.sub(r"\1", _IMAGE.sub(r"\1", text))


class MarkdownLoader:
    extensions: tuple[str, ...] = (".md", ".markdown")

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        path = Path(path)
        raw = path.read_bytes() if data is None else data
        if not raw:
            raise LoaderError("file is empty")
        if is_binary(raw):
            raise LoaderError("not a Markdown file: contains binary data")
        text = raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        title, body = split_front_matter(text)
        sections, first_h1 = _split_sections(_COMMENT.sub("", body))
        pages = []
        for heading, lines in sections:
            section_text = _MANY_BLANK_LINES.sub("\n\n", inline_cleanup("\n".join(lines))).strip()
            if section_text:
                pages.append(Page(number=len(pages) + 1, text=section_text, heading=heading))
        if not pages:
            raise LoaderError("document has no text")
        return LoadedDocument(title=choose_title(title, [first_h1], path.stem), pages=pages)


def _split_sections(body: str) -> tuple[list[tuple[str | None, list[str]]], str | None]:
    """Sections start at `#`/`##` headings outside fenced code; also returns the first `#`."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    first_h1: str | None = None
    fence: str | None = None  # the opening fence while inside a code block
    for line in body.split("\n"):
        fence_match = _FENCE.match(line)
        if fence is not None:
            if (
                fence_match
                and fence_match.group(1)[0] == fence[0]
                and len(fence_match.group(1)) >= len(fence)
                and not line[fence_match.end() :].strip()
            ):
                fence = None
        elif fence_match:
            fence = fence_match.group(1)
        else:
            heading = _HEADING.match(line)
            if heading and len(heading.group(1)) <= 2:
                name = " ".join(inline_cleanup(heading.group(2) or "").split()) or None
                if len(heading.group(1)) == 1 and first_h1 is None and name:
                    first_h1 = name[:MAX_TITLE_CHARS].strip()
                sections.append((name, []))
        sections[-1][1].append(line.rstrip())
    return sections, first_h1
