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


def named_code(text: str) -> tuple[list[str], list[str]]:
    """The files (`storage/search/service.py`) and modules (`storage.search.service`) a page names."""
    files = re.findall(r"(?<![\w./-])((?:app|indexer|storage|benchmarks|tests|docker)/[\w/.-]*\w\.(?:py|sh))\b", text)
    modules = re.findall(r"(?<![\w./-])((?:app|indexer|storage)(?:\.[a-z_][a-z0-9_]*)+)", text)
    return files, modules


def module_exists(dotted: str) -> bool:
    """Down the packages the name walks through, each next part is a module or a package; past a module,
    the rest are names in it."""
    path = ROOT
    for part in dotted.split("."):
        if (path / part / "__init__.py").exists():
            path = path / part
        elif (path / f"{part}.py").exists():
            return True
        else:
            return path != ROOT and not (path / "__init__.py").exists()
    return True


def test_code_the_docs_name_exists():
    """After a file moves, every page that names it by path or module moves with it."""
    for page in [ROOT / "README.md", *ROOT.glob("docs/*.md")]:
        files, modules = named_code(page.read_text())
        for name in files:
            assert (ROOT / name).exists(), f"{page.name} names {name}, which does not exist"
        for name in modules:
            assert module_exists(name), f"{page.name} names {name}, which is no module"
