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
