"""Run a VNN-COMP instance list: ``network,property,timeout`` rows, answers checked against
an optional file of expected answers, and a summary table."""

from __future__ import annotations

import csv
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pyomo_nn.errors import InputFileError
from pyomo_nn.importers import load_onnx
from pyomo_nn.ir import Network
from pyomo_nn.vnnlib.decide import PropertyResult, verify_property
from pyomo_nn.vnnlib.results import write_result_file
from pyomo_nn.vnnlib.spec import load_vnnlib


@dataclass(frozen=True)
class Instance:
    """One benchmark instance: files and the time limit in seconds."""

    network: Path
    property: Path
    timeout: float

    @property
    def key(self) -> tuple[str, str]:
        """(network, property) file names without their extensions, as expected-answer files use."""
        return instance_name(self.network), instance_name(self.property)


@dataclass(frozen=True)
class InstanceResult:
    """What one instance gave: ``expected`` is None when the answer is not known."""

    instance: Instance
    answer: str
    seconds: float
    reason: str
    expected: str | None

    @property
    def wrong(self) -> bool:
        """A definite answer (sat/unsat) that contradicts a known definite answer."""
        return (
            self.answer in ("sat", "unsat")
            and self.expected in ("sat", "unsat")
            and self.answer != self.expected
        )


def instance_name(path: str | os.PathLike[str]) -> str:
    """A file name without ``.onnx`` / ``.vnnlib`` (and ``.gz``): ``prop_0_0.03.vnnlib`` gives
    ``prop_0_0.03`` (``Path.stem`` would cut at the last dot of the number)."""
    name = Path(str(path).strip()).name
    for suffix in (".gz", ".onnx", ".vnnlib"):
        name = name.removesuffix(suffix)
    return name


def read_instances(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> list[Instance]:
    """Read ``network,property,timeout`` rows; paths are relative to ``root`` (default: the
    CSV's folder). Raises :class:`~pyomo_nn.errors.InputFileError` for a bad file."""
    file = Path(path)
    base = Path(root) if root is not None else file.parent
    instances = []
    for number, row in _csv_rows(file, "instance list"):
        if row[0].strip().startswith("#"):
            continue
        if len(row) < 3:
            raise InputFileError(f"{file}:{number}: expected 'network,property,timeout', found {row}")
        try:
            timeout = float(row[2])
        except ValueError:
            if number == 1:  # a header line
                continue
            raise InputFileError(f"{file}:{number}: timeout {row[2]!r} is not a number") from None
        if not 0 < timeout < float("inf"):
            raise InputFileError(
                f"{file}:{number}: timeout {row[2].strip()} must be a positive number of seconds"
            )
        instances.append(Instance(base / row[0].strip(), base / row[1].strip(), timeout))
    return instances


def read_expected(path: str | os.PathLike[str]) -> dict[tuple[str, str], str]:
    """Expected answers by (network, property) without extensions, from a CSV with columns
    ``network,property,result`` (a header naming them, or these three first)."""
    file = Path(path)
    rows = _csv_rows(file, "expected-answers file")
    columns = (0, 1, 2)
    if rows and "result" in [cell.strip() for cell in rows[0][1]]:
        columns = _header_columns(file, rows[0][1])
        rows = rows[1:]
    expected = {}
    for number, row in rows:
        if len(row) <= max(columns):
            raise InputFileError(f"{file}:{number}: expected 'network,property,result', found {row}")
        expected[instance_name(row[columns[0]]), instance_name(row[columns[1]])] = row[columns[2]].strip()
    return expected


def _header_columns(file: Path, header: list[str]) -> tuple[int, int, int]:
    """Positions of the network, property and result columns named in ``header``."""
    names = [cell.strip() for cell in header]
    missing = [name for name in ("network", "property", "result") if name not in names]
    if missing:
        raise InputFileError(
            f"{file}:1: the header names no {' or '.join(missing)} column; "
            "expected the columns network, property, result"
        )
    return names.index("network"), names.index("property"), names.index("result")


def _csv_rows(file: Path, what: str) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a CSV file with their 1-based line numbers."""
    if not file.is_file():
        raise InputFileError(f"{what} not found: {file}")
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            return [(number, row) for number, row in enumerate(csv.reader(handle), start=1) if row]
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputFileError(f"{file}: the {what} is not a readable CSV text file ({error})") from error
    except OSError as error:
        raise InputFileError(f"cannot read the {what} {file}: {error.strerror or error}") from error


def run_benchmark(
    instances: Iterable[Instance],
    *,
    expected: dict[tuple[str, str], str] | None = None,
    result_dir: str | os.PathLike[str] | None = None,
    solver: str = "highs",
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
    on_result: Callable[[InstanceResult], None] | None = None,
) -> list[InstanceResult]:
    """Verify every instance with its own time limit (the time to read the files counts).

    Each network file is read once and reused. ``result_dir`` receives one competition
    result file per instance (``<network>_<property>.txt``).
    """
    networks: dict[Path, Network] = {}
    results = []
    for instance in instances:
        started = time.perf_counter()
        if instance.network not in networks:
            networks[instance.network] = load_onnx(instance.network)
        spec = load_vnnlib(instance.property)
        left = instance.timeout - (time.perf_counter() - started)
        outcome: PropertyResult = verify_property(
            networks[instance.network], spec, left, solver=solver, workers=workers, log=log
        )
        result = InstanceResult(
            instance,
            outcome.answer,
            time.perf_counter() - started,
            outcome.reason,
            (expected or {}).get(instance.key),
        )
        if result_dir is not None:
            write_result_file(Path(result_dir) / f"{instance.key[0]}_{instance.key[1]}.txt", outcome)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def write_results_csv(path: str | os.PathLike[str], results: Iterable[InstanceResult]) -> None:
    """One row per instance: network, property, answer, expected, wrong, seconds, reason."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["network", "property", "answer", "expected", "wrong", "seconds", "reason"])
        for r in results:
            writer.writerow(
                [
                    r.instance.network.name,
                    r.instance.property.name,
                    r.answer,
                    r.expected or "",
                    int(r.wrong),
                    f"{r.seconds:.2f}",
                    r.reason,
                ]
            )


def summary_row(label: str, results: list[InstanceResult]) -> str:
    """One table row: counts of each answer, wrong answers, total and median seconds."""
    count = {
        answer: sum(r.answer == answer for r in results) for answer in ("sat", "unsat", "timeout", "unknown")
    }
    wrong = sum(r.wrong for r in results)
    seconds = [r.seconds for r in results]
    median = statistics.median(seconds) if seconds else 0.0
    return (
        f"{label:<24}{len(results):>6}{count['sat']:>6}{count['unsat']:>7}{count['timeout']:>9}"
        f"{count['unknown']:>9}{wrong:>7}{sum(seconds):>11.1f}{median:>9.2f}"
    )


def summary_table(groups: dict[str, list[InstanceResult]]) -> str:
    """A table with one row per group of results and a total row."""
    header = (
        f"{'':<24}{'total':>6}{'sat':>6}{'unsat':>7}{'timeout':>9}{'unknown':>9}{'wrong':>7}"
        f"{'time (s)':>11}{'median':>9}"
    )
    lines = [header]
    everything = [r for results in groups.values() for r in results]
    lines += [summary_row(label, results) for label, results in groups.items()]
    if len(groups) > 1:
        lines.append(summary_row("all", everything))
    return "\n".join(lines)
