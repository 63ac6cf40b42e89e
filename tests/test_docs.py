"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one page run in order in one namespace (a page may set things up in its first
block and build on them), in a temporary working directory, so files they write land there.
A block that cannot run on a test machine is excluded by a visible marker on the line right
before its fence, with the reason::

    <!-- docs-test: skip (needs Gurobi) -->

A non-Python block can be written into the working directory before the page's blocks run,
so that a snippet may read it (e.g. a ``solver.toml`` shown on the page)::

    <!-- docs-test: file solver.toml -->

Tracebacks name the markdown file and its line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->$")
SKIP = re.compile(r"^skip\s*\((.+)\)$")
FILE = re.compile(r"^file\s+(\S+)$")


@dataclass
class Block:
    page: Path
    language: str
    line: int  # line number of the first line of code (1-based)
    code: str
    marker: str | None  # the docs-test marker right before the fence, if any

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        match = SKIP.match(self.marker or "")
        return match.group(1) if match else None

    @property
    def file_name(self) -> str | None:
        match = FILE.match(self.marker or "")
        return match.group(1) if match else None


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a markdown page, with the docs-test marker before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        assert end < len(lines), f"{page.name}:{i + 1}: code fence never closed"
        previous = lines[i - 1].strip() if i > 0 else ""
        marker = MARKER.match(previous)
        found.append(
            Block(
                page=page,
                language=language.lower(),
                line=i + 2,
                code="\n".join(lines[i + 1 : end]) + "\n",
                marker=marker.group(1) if marker else None,
            )
        )
        i = end + 1
    return found


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_pages_have_python_blocks() -> None:
    pages = [page for page in PAGES if any(b.language == "python" for b in blocks(page))]
    assert len(pages) >= 6, pages  # README and every docs page


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_markers_are_well_formed(page: Path) -> None:
    """A marker says what it does and why; a stray or misspelt one is an error, not a no-op."""
    lines = page.read_text(encoding="utf-8").splitlines()
    attached = {b.line - 2 for b in blocks(page) if b.marker is not None}  # index of the fence line
    for index, line in enumerate(lines):
        marker = MARKER.match(line.strip())
        if marker is None:
            assert "docs-test" not in line, f"{page.name}:{index + 1}: malformed docs-test marker"
            continue
        where = f"{page.name}:{index + 1}"
        text = marker.group(1)
        assert index + 1 in attached, f"{where}: a docs-test marker must be right before a code fence"
        skip, file = SKIP.match(text), FILE.match(text)
        assert skip or file, f"{where}: expected 'skip (reason)' or 'file NAME', got {text!r}"
        if skip:
            assert len(skip.group(1).strip()) >= 5, f"{where}: say why the block is skipped"
    for block in blocks(page):
        if block.skip_reason is not None:
            assert block.language == "python", f"{block.where}: only python blocks are run or skipped"
        if block.file_name is not None:
            assert block.language != "python", f"{block.where}: a file marker is for data blocks"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_docs_snippets_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    page_blocks = blocks(page)
    for block in page_blocks:
        if block.file_name is not None:
            (tmp_path / block.file_name).write_text(block.code, encoding="utf-8")
    python = [b for b in page_blocks if b.language == "python"]
    if not python:
        pytest.skip("no python blocks")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in python:
        if block.skip_reason is not None:
            continue
        # Padding keeps the markdown's line numbers in tracebacks.
        source = "\n" * (block.line - 1) + block.code
        code = compile(source, str(block.page.relative_to(ROOT)), "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            raise AssertionError(f"docs snippet at {block.where} failed: {error!r}") from error


# Files of this repository (with an extension: a folder name may be another repository's).
REPO_PATH = re.compile(r"(?<![\w/.])((?:examples|scripts|benchmarks|tests|src)/[\w/.-]*\.[a-z]+)\b")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_repository_paths_exist(page: Path) -> None:
    """Files of the repository that the page names (scripts, examples, ...) exist."""
    text = page.read_text(encoding="utf-8")
    missing = sorted({p for p in REPO_PATH.findall(text) if not (ROOT / p).exists()})
    assert not missing, f"{page.name} names files that do not exist: {missing}"
