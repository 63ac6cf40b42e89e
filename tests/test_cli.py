"""The ``pyomo-nn`` command line: subcommands run and errors are one clear line."""

from __future__ import annotations

from pyomo_nn.bundled import digits_network_path
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
