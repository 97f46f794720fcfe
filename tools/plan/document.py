"""A small document model, rendered as aligned plain text (terminal) or Markdown (pull-request comment)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    right: frozenset[int] = frozenset()  # right-aligned columns (numbers)
    code: frozenset[int] = frozenset()  # columns shown as `code` in Markdown


@dataclass
class Pre:
    lines: list[str]


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


Block = Table | Pre | Para | Bullets


@dataclass
class Section:
    title: str
    blocks: list[Block]


@dataclass
class Document:
    title: str
    sections: list[Section]
    intro: list[Block] = field(default_factory=list)


def render(doc: Document, fmt: str) -> str:
    return render_markdown(doc) if fmt == "markdown" else render_text(doc)


def render_text(doc: Document) -> str:
    out = [doc.title, "=" * len(doc.title)]
    for block in doc.intro:
        out += ["", *_text_block(block)]
    for section in doc.sections:
        out += ["", section.title, "-" * len(section.title), *section_text_lines(section.blocks)]
    return "\n".join(out) + "\n"


def section_text_lines(blocks: Sequence[Block]) -> list[str]:
    """A section's blocks as plain text, a blank line between them (also the README's generated examples)."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        if i:
            out.append("")
        out += _text_block(block)
    return out


def _text_block(block: Block) -> list[str]:
    if isinstance(block, Table):
        cells = [block.headers, *block.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(block.headers))]

        def line(row: Sequence[str]) -> str:
            return "  ".join(c.rjust(w) if i in block.right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

        return [line(block.headers), "  ".join("-" * w for w in widths), *(line(r) for r in block.rows)]
    if isinstance(block, Pre):
        return block.lines
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    return [block.text]


def render_markdown(doc: Document) -> str:
    out = [f"## {doc.title}"]
    for block in doc.intro:
        out += ["", *_markdown_block(block)]
    for section in doc.sections:
        out += ["", f"### {section.title}"]
        for block in section.blocks:
            out += ["", *_markdown_block(block)]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Markdown-safe prose: outside `code` spans, `<word` would start an HTML tag that GitHub strips."""
    parts = text.split("`")
    return "`".join(re.sub(r"<(?=[A-Za-z/!])", "&lt;", p) if i % 2 == 0 else p for i, p in enumerate(parts))


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, Table):
        def cell(i: int, text: str) -> str:
            text = text.replace("|", "\\|")
            return f"`{text}`" if i in block.code and text else _md(text)

        def line(row: Sequence[str], code: bool = True) -> str:
            return "| " + " | ".join(cell(i, c) if code else _md(c) for i, c in enumerate(row)) + " |"

        rule = "|" + "|".join("---:" if i in block.right else "---" for i in range(len(block.headers))) + "|"
        return [line(block.headers, code=False), rule, *(line(r) for r in block.rows)]
    if isinstance(block, Pre):
        return ["```text", *block.lines, "```"]
    if isinstance(block, Bullets):
        return [f"- {_md(item)}" for item in block.items]
    return [_md(block.text)]
