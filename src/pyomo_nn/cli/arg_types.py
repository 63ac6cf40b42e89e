"""Argument types for the command line: each refuses a bad value with a one-line usage error
(exit code 2) before any work is done."""

from __future__ import annotations

import argparse
import math


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def seconds(text: str) -> float:
    """A time limit: a positive, finite number of seconds (0 is refused, not 'no limit')."""
    value = _number(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds, got {text}; leave the option out for its default"
        )
    return value


def positive_int(text: str) -> int:
    """A count of at least 1 (workers, threads)."""
    return _whole_number(text, minimum=1, wanted="at least 1")


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (a window radius)."""
    return _whole_number(text, minimum=0, wanted="0 or more")


def _whole_number(text: str, minimum: int, wanted: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0 (a pruning threshold, a domain radius, a MIP gap)."""
    value = _number(text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def percentage(text: str) -> float:
    """A percentage between 0 and 100."""
    value = _number(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, got {text}")
    return value
