"""Examples write their pictures into a git-ignored output folder, never the repository root."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mineps_figure_goes_to_a_git_ignored_output_folder(monkeypatch):
    """The figure was written as mineps_pruning.png into the current folder (the repository root
    when run as documented)."""
    monkeypatch.setattr(sys, "argv", ["mineps_pruning.py"])
    args = load_example("mineps_pruning").parse_args()
    assert args.out == ROOT / "examples" / "output"
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(args.out / "mineps_pruning.png")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "examples/output/ is not in .gitignore"
