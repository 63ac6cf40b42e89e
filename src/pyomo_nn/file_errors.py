"""Library file I/O errors as pyomo-nn errors: a missing folder or file names the path and
the fix instead of surfacing as a bare ``OSError`` from numpy or onnx."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from pyomo_nn.errors import InputFileError, OutputFileError, PyomoNNError


@contextmanager
def writable(path: str | os.PathLike[str]) -> Iterator[None]:
    """Around a write to ``path``: an OS error becomes :class:`OutputFileError`."""
    try:
        yield
    except OSError as error:
        raise OutputFileError(
            f"cannot write {os.fspath(path)}: {error.strerror or error}; check that its folder "
            "exists and is writable"
        ) from error


@contextmanager
def readable(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Around a read of ``path`` holding ``what``: a missing or malformed file becomes
    :class:`InputFileError`."""
    try:
        yield
    except PyomoNNError:
        raise
    except FileNotFoundError as error:
        raise InputFileError(f"{os.fspath(path)}: file not found (expected {what})") from error
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise InputFileError(f"{os.fspath(path)}: not readable as {what}: {error}") from error
