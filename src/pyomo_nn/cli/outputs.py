"""Output files of the command line: checked before the work starts, so a typo in a path does
not cost a finished computation."""

from __future__ import annotations

import os
from pathlib import Path

from pyomo_nn.errors import OutputFileError


def check_output_file(path: str | None, option: str) -> None:
    """Refuse ``path`` (given with ``option``) when it cannot be written: its folder is missing
    or read-only, or it names a folder. ``None`` (option not given) passes."""
    if path is None:
        return
    file = Path(path)
    folder = file.parent
    if file.is_dir():
        raise OutputFileError(f"{option} {path}: this is a folder; give a file name")
    if not folder.is_dir():
        raise OutputFileError(
            f"{option} {path}: the folder {folder} does not exist; create it first or choose another path"
        )
    if not os.access(folder, os.W_OK):
        raise OutputFileError(f"{option} {path}: the folder {folder} is not writable")


def make_output_folder(path: str | None, option: str) -> None:
    """Create the folder ``path`` (given with ``option``) with its parents, or refuse it."""
    if path is None:
        return
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFileError(
            f"{option} {path}: cannot create this folder ({error.strerror or error})"
        ) from error
    if not os.access(path, os.W_OK):
        raise OutputFileError(f"{option} {path}: the folder is not writable")
