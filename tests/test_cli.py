"""The ``pyomo-nn`` command line: subcommands run and errors are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyomo_nn.bundled import digits_network_path, digits_test_set
from pyomo_nn.cli import main as cli_main
from pyomo_nn.cli.main import main


def test_info_prints_layers(capsys):
    assert main(["info", str(digits_network_path())]) == 0
    out = capsys.readouterr().out
    assert "64 inputs" in out and "relu_1" in out


def test_error_is_one_line_with_exit_code_2(capsys, tmp_path):
    assert main(["info", str(tmp_path / "missing.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyomo-nn: error: ONNX file not found")


def test_bounds_command_prints_a_table_and_saves(capsys, tmp_path):
    import numpy as np

    from pyomo_nn.bundled import digits_test_set

    x0 = tmp_path / "x0.npy"
    np.save(x0, digits_test_set()[0][0])
    out = tmp_path / "bounds.npz"
    code = main(
        [
            "bounds",
            str(digits_network_path()),
            "--method",
            "lp",
            "--linf",
            str(x0),
            "0.05",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0 and out.exists()
    text = capsys.readouterr().out
    assert "split" in text and "mean width" in text and "dense_2" in text


def test_prune_command_writes_onnx(capsys, tmp_path):
    import pyomo_nn as pnn

    out = tmp_path / "p50.onnx"
    assert main(["prune", str(digits_network_path()), "--percent", "50", "--out", str(out)]) == 0
    assert "sparsity" in capsys.readouterr().out
    zeros = sum(layer.zeros for layer in pnn.sparsity(pnn.load_onnx(out)))
    assert zeros > 0


def test_alpha_on_a_cnn_is_a_one_line_error(capsys):
    from pathlib import Path

    cnn = Path(__file__).parent / "data" / "torch_cnn_legacy.onnx"
    assert main(["bounds", str(cnn), "--method", "alpha", "--box", "0", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyomo-nn: error: bound method 'alpha' supports chains of Dense and ReLU")


# --- no tracebacks, one exit code per kind, settings checked first (issue 10, part 4) --------

DATA = Path(__file__).parent / "data"
NANO = [str(DATA / "vnnlib" / "test_nano.onnx"), str(DATA / "vnnlib" / "test_nano.vnnlib")]


def run_cli(*args: str, **popen) -> subprocess.CompletedProcess:
    """``pyomo-nn ARGS`` in a fresh interpreter (HiGHS banners and broken pipes are visible)."""
    command = [sys.executable, "-m", "pyomo_nn.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ, **popen)


def usage_error(capsys, *argv: str) -> str:
    """stderr of a command argparse refuses (exit code 2) before running anything."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "option", "message"),
    [
        (["prune", "MODEL", "--percent", "150", "--out", "p.onnx"], "--percent", "between 0 and 100"),
        (["prune", "MODEL", "--eps", "-1", "--out", "p.onnx"], "--eps", ">= 0"),
        (["vnnlib", *NANO, "--timeout", "0"], "--timeout", "positive"),
        (["vnnlib", *NANO, "--timeout", "-5"], "--timeout", "positive"),
        (["vnnlib", *NANO, "--workers", "0"], "--workers", "at least 1"),
        (["vnnlib-bench", "instances.csv", "--workers", "0"], "--workers", "at least 1"),
        (["bounds", "MODEL", "--method", "lp", "--time-limit", "0"], "--time-limit", "positive"),
        (["bounds", "MODEL", "--method", "lp", "--time-limit", "-1"], "--time-limit", "positive"),
        (["verify", "MODEL", "--time-limit", "0"], "--time-limit", "positive"),
        (["compare", "MODEL", "MODEL", "--threads", "0"], "--threads", "at least 1"),
        (["verify", "MODEL", "--mip-gap", "-0.1"], "--mip-gap", ">= 0"),
        (["bounds", "MODEL", "--neighbours", "x0.npy", "0.1", "--radius", "-1"], "--radius", "0 or more"),
    ],
    ids=[
        "percent-150",
        "eps-negative",
        "timeout-0",
        "timeout-negative",
        "workers-0",
        "bench-workers-0",
        "bounds-time-limit-0",
        "bounds-time-limit-negative",
        "verify-time-limit-0",
        "threads-0",
        "mip-gap-negative",
        "radius-negative",
    ],
)
def test_bad_settings_are_refused_before_any_work(capsys, argv, option, message):
    """Today: tracebacks (prune), answers with a 0 s limit (vnnlib), a hidden 'no limit'
    (bounds --time-limit 0) and a different error after the bounds (verify --time-limit 0)."""
    argv = [str(digits_network_path()) if arg == "MODEL" else arg for arg in argv]
    err = usage_error(capsys, *argv)
    assert option in err and message in err


def test_bounds_and_verify_read_time_limit_0_the_same_way(capsys):
    model = str(digits_network_path())
    bounds = usage_error(capsys, "bounds", model, "--method", "lp", "--time-limit", "0")
    verify = usage_error(capsys, "verify", model, "--time-limit", "0")
    assert bounds.splitlines()[-1].split(": ", 2)[-1] == verify.splitlines()[-1].split(": ", 2)[-1]


def _forbid(monkeypatch, module, name):
    def called(*args, **kwargs):
        raise AssertionError(f"{name} ran although the output path is bad")

    monkeypatch.setattr(module, name, called)


@pytest.mark.parametrize(
    ("argv", "module", "work"),
    [
        (["bounds", "MODEL", "--no-progress", "--out", "OUT"], "bounds", "compute_bounds"),
        (["prune", "MODEL", "--percent", "50", "--out", "OUT"], "prune", "prune"),
        (["verify", "MODEL", "--json", "OUT"], "objective_args", "Comparison"),
        (["compare", "MODEL", "MODEL", "--json", "OUT"], "objective_args", "Comparison"),
        (["vnnlib", *NANO, "--result-file", "OUT"], "vnnlib", "verify_property"),
        (["vnnlib-bench", "CSV", "--out", "OUT"], "vnnlib", "run_benchmark"),
    ],
    ids=["bounds-out", "prune-out", "verify-json", "compare-json", "vnnlib-result-file", "bench-out"],
)
def test_output_into_a_missing_folder_is_refused_before_the_work(
    capsys, monkeypatch, tmp_path, argv, module, work
):
    """Today the work ran to the end and the write raised FileNotFoundError (a traceback)."""
    import importlib

    _forbid(monkeypatch, importlib.import_module(f"pyomo_nn.cli.{module}"), work)
    csv = tmp_path / "instances.csv"
    csv.write_text(f"{NANO[0]},{NANO[1]},10\n")
    out = tmp_path / "missing" / "out.file"
    replace = {"MODEL": str(digits_network_path()), "OUT": str(out), "CSV": str(csv)}
    assert main([replace.get(arg, arg) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyomo-nn: error: ") and "does not exist" in err and str(out) in err


def test_output_path_that_is_a_folder_is_refused(capsys, tmp_path):
    model = str(digits_network_path())
    assert main(["prune", model, "--percent", "50", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_missing_or_unreadable_centre_file_is_a_one_line_error(capsys, tmp_path):
    """bounds --linf missing.npy raised FileNotFoundError (only compare/verify wrapped it)."""
    model = str(digits_network_path())
    assert main(["bounds", model, "--linf", str(tmp_path / "x0.npy"), "0.1", "--no-progress"]) == 2
    assert "file not found" in capsys.readouterr().err
    x0 = tmp_path / "x0.npy"
    np.save(x0, digits_test_set()[0][0])
    assert main(["bounds", model, "--linf", str(x0), "abc", "--no-progress"]) == 2
    assert "EPS must be a number" in capsys.readouterr().err


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"pyomo-nn {version('pyomo-nn')}"


def _raise(error: BaseException):
    def run(*args, **kwargs):
        raise error

    return run


def test_internal_error_is_one_line_asking_for_a_report(capsys, monkeypatch):
    """A bug used to end in a traceback with exit code 1, the code of 're-check failed'."""
    monkeypatch.setattr("pyomo_nn.cli.info.load_onnx", _raise(RuntimeError("boom\nsecond line")))
    code = main(["info", str(digits_network_path())])
    err = capsys.readouterr().err
    assert code == cli_main.ExitCode.INTERNAL == 70
    assert err.count("\n") == 1 and "RuntimeError: boom" in err and "please report" in err


def test_traceback_option_shows_an_internal_error(monkeypatch):
    monkeypatch.setattr("pyomo_nn.cli.info.load_onnx", _raise(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        main(["--traceback", "info", str(digits_network_path())])


def test_ctrl_c_exits_130(capsys, monkeypatch):
    monkeypatch.setattr("pyomo_nn.cli.info.load_onnx", _raise(KeyboardInterrupt()))
    try:
        code = main(["info", str(digits_network_path())])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() as a traceback")
    assert code == 130 and capsys.readouterr().err == "pyomo-nn: interrupted\n"


def test_unavailable_solver_has_its_own_exit_code(capsys):
    """Solver errors exited 2 like a typo in a file name."""
    assert main(["vnnlib", *NANO, "--solver", "no_such_solver"]) == 3
    assert capsys.readouterr().err.startswith("pyomo-nn: error: solver 'no_such_solver'")


def test_closed_output_pipe_exits_quietly():
    """`pyomo-nn info model.onnx | head -2`: 'Exception ignored ... BrokenPipeError', exit 120."""
    cnn = DATA / "torch_cnn_legacy.onnx"
    process = subprocess.Popen(
        [sys.executable, "-m", "pyomo_nn.cli.main", "info", str(cnn)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # the reader is gone before the command prints anything
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert err == ""


def _digits_property(path: Path, index: int, eps: float) -> None:
    """A VNN-LIB robustness property of a bundled test image: some other class scores higher."""
    images, labels = digits_test_set()
    x0, label = images[index], int(labels[index])
    lines = [f"(declare-const X_{i} Real)" for i in range(x0.size)]
    lines += [f"(declare-const Y_{k} Real)" for k in range(10)]
    for i, value in enumerate(x0):
        lines.append(f"(assert (>= X_{i} {max(0.0, float(value) - eps)!r}))")
        lines.append(f"(assert (<= X_{i} {min(1.0, float(value) + eps)!r}))")
    others = " ".join(f"(and (>= Y_{k} Y_{label}))" for k in range(10) if k != label)
    lines.append(f"(assert (or {others}))")
    path.write_text("\n".join(lines) + "\n")


def test_vnnlib_quiet_prints_only_the_answer(tmp_path):
    """The header line was printed under --quiet. This property goes through every stage
    (attack, bounds, LP, LP bounds, MILP), so a solver banner would show up here too."""
    prop = tmp_path / "prop.vnnlib"
    _digits_property(prop, index=3, eps=0.1)
    model = digits_network_path("64-50-50-50-10")
    done = run_cli("vnnlib", str(model), str(prop), "--timeout", "60", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "unsat\n"


def test_mnist_fc_benchmark_without_its_data_fails_and_says_where_to_get_it(tmp_path):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "mnist_fc.py"
    done = subprocess.run(
        [sys.executable, str(script), "--data", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "VNN-COMP 2021" in done.stderr and "stanleybak/vnncomp2021" in done.stderr
    assert "--data DIR" in done.stderr and "Traceback" not in done.stderr
