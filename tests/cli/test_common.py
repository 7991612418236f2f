"""What the subcommands share: JSON output of NumPy values, non-finite numbers and paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradstep.cli._common import print_json


def test_print_json_writes_plain_json_on_one_line(capsys):
    print_json(
        {
            "loss": np.float32(0.5),
            "epochs": np.int64(3),
            "best": float("nan"),
            "worst": float("-inf"),
            "dir": Path("runs") / "a",
            "betas": (0.9, 0.999),
            "curve": np.array([1.0, 2.0]),
            4: True,
        }
    )
    assert capsys.readouterr().out == (
        '{"loss": 0.5, "epochs": 3, "best": "nan", "worst": "-inf", "dir": "runs/a", '
        '"betas": [0.9, 0.999], "curve": [1.0, 2.0], "4": true}\n'
    )
