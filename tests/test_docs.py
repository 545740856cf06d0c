"""The docs quote the code's real messages: every `code-style` message in troubleshooting is made of
pieces of one string literal of the source (`…` marks the parts that vary), and links between pages
point at files that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIELD = "\x00"  # where an f-string puts a value


def source_strings() -> list[str]:
    """Every string literal of the product code, f-strings with their values as FIELD."""
    found = []
    for path in [*ROOT.glob("indexer/**/*.py"), *ROOT.glob("storage/**/*.py"), *ROOT.glob("app/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                found.append(
                    "".join(v.value if isinstance(v, ast.Constant) else FIELD for v in node.values)  # type: ignore[misc]
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value)
    return found


def quoted_messages() -> list[str]:
    text = (ROOT / "docs" / "troubleshooting.md").read_text()
    return re.findall(r"^- \*\*`([^`]+)`", text, flags=re.MULTILINE)


@pytest.mark.parametrize("message", quoted_messages())
def test_troubleshooting_quotes_the_code(message):
    strings = source_strings()
    pieces = [p.strip() for p in message.split("…") if p.strip()]
    assert any(all(piece in s for piece in pieces) for s in strings), f"no message in the code has {pieces}"


def test_there_are_messages_to_check():
    assert len(quoted_messages()) >= 10


def test_links_between_pages_resolve():
    for page in [ROOT / "README.md", *ROOT.glob("docs/*.md")]:
        for target in re.findall(r"\]\(([^)#]+?\.(?:md|png))(?:#[^)]*)?\)", page.read_text()):
            if target.startswith("http"):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
