"""The picture commands in process: what `gradstep train` records for them (steps.csv,
gradient_health.json, boundary.npz, curves.png), `gradstep plot`, `gradstep report` and
`gradstep paths`, and their one-line errors."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from viz.pixels import assert_picture

from gradstep.cli import main


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A 2-D classification run (moons) and a regression run (water-heater), a few epochs."""
    base = tmp_path_factory.mktemp("viz-runs")
    common = ["--model.hidden", "8", "--train.epochs", "3", "--train.verbose", "0",
              "--output.dir", str(base)]  # fmt: skip
    for name, data in (("cls", "moons"), ("reg", "water-heater")):
        code, _, err = _run(["train", "--data.name", data, "--output.name", name, *common])
        assert code == 0, err
    return {"cls": base / "cls", "reg": base / "reg"}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_train_records_every_step(runs):
    run = runs["cls"]
    cfg = tomllib.loads((run / "config.toml").read_text())
    summary = json.loads((run / "summary.json").read_text())
    rows = _rows(run / "steps.csv")
    n_train = 300 - round(300 * 0.15) * 2  # moons: 300 points, 15 % val and 15 % test
    per_epoch = math.ceil(n_train / cfg["data"]["batch_size"])
    assert len(rows) == 3 * per_epoch == summary["epochs"] * per_epoch
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    assert [int(r["epoch"]) for r in rows[per_epoch - 1 : per_epoch + 1]] == [1, 2]
    # warm-up: lr at step s (from 0) is base · (s + 1) / warmup_steps, the closed form
    base, warm = cfg["optimizer"]["lr"], cfg["schedule"]["warmup_steps"]
    lrs = [float(r["lr"]) for r in rows]
    np.testing.assert_allclose(lrs[:warm], [base * (s + 1) / warm for s in range(warm)])
    assert all(float(r["loss"]) > 0 and float(r["grad_norm"]) > 0 for r in rows)


def test_train_records_gradient_health_and_boundaries(runs):
    run = runs["cls"]
    health = json.loads((run / "gradient_health.json").read_text())
    n_steps = len(_rows(run / "steps.csv"))
    assert health["steps"][0] == 1 and health["steps"][-1] <= n_steps
    assert list(health["grad_norm"]) == ["0.weight", "2.weight"]
    with np.load(run / "boundary.npz") as z:
        assert list(z["epochs"]) == [1, 2, 3]
        assert z["probs"].shape[0] == 3 and z["probs"].shape[-1] == 2
        assert z["x"].shape[1] == 2 and len(z["x"]) == len(z["y"])
    assert not (runs["reg"] / "boundary.npz").exists()
    assert_picture(run / "curves.png")
    assert_picture(runs["reg"] / "curves.png")


def test_plot_one_run_draws_every_picture_that_applies(runs, tmp_path):
    code, out, err = _run(["plot", str(runs["cls"])])
    assert code == 0, err
    for name in ("curves", "confusion", "gradients", "boundary"):
        assert_picture(runs["cls"] / f"{name}.png")
        assert f"{name}.png" in out
    code, out, err = _run(["plot", str(runs["reg"]), "--json"])
    assert code == 0, err
    files = json.loads(out.strip().splitlines()[-1])["files"]
    assert [Path(f).name for f in files] == ["curves.png", "gradients.png"]


def test_plot_one_picture_to_a_file(runs, tmp_path):
    target = tmp_path / "cm.png"
    code, _, err = _run(["plot", str(runs["cls"]), "--what", "confusion", "--split", "val",
                         "--out", str(target)])  # fmt: skip
    assert code == 0, err
    assert_picture(target)


def test_plot_several_runs_overlaid(runs, tmp_path):
    target = tmp_path / "both.png"
    code, _, err = _run(["plot", str(runs["cls"]), str(runs["reg"]), "--out", str(target)])
    assert code == 0, err
    assert_picture(target)


@pytest.mark.parametrize(
    "args, message",
    [
        (["plot", "no/such/run"], "no/such/run is not a run directory"),
        (["plot", "{cls}", "--what", "pie"], "--what 'pie' is not a picture"),
        (["plot", "{reg}", "--what", "confusion"], "is not a classification run"),
        (["plot", "{reg}", "--what", "boundary"], "has no boundary.npz"),
        (["plot", "{cls}", "--out", "x.png"], "--out names one file"),
        (["plot", "{cls}", "{reg}", "--what", "confusion"], "overlaid as curves only"),
        (["report", "no/such/run"], "no/such/run is not a run directory"),
    ],
)
def test_errors_are_one_line(runs, args, message):
    args = [a.format(cls=runs["cls"], reg=runs["reg"]) for a in args]
    code, _, err = _run(args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gradstep: error: ")
    assert message in err


def test_report_is_self_contained(runs, tmp_path):
    target = tmp_path / "r.html"
    code, out, err = _run(["report", str(runs["cls"]), "--out", str(target)])
    assert code == 0, err
    page = target.read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(sources) == 4
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://", page, flags=re.IGNORECASE)
    assert "<h2>Confusion matrix</h2>" in page and "moons" in page
    code, _, err = _run(["report", str(runs["reg"])])
    assert code == 0, err
    page = (runs["reg"] / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2  # curves and gradient health


def test_paths_png_gif_and_json(tmp_path):
    png, gif = tmp_path / "p.png", tmp_path / "p.gif"
    code, out, err = _run(["paths", "--surface", "quadratic", "--optimizers", "sgd,adam",
                           "--steps", "30", "--lr.adam", "0.3", "--adam.betas", "0.8,0.99",
                           "--warmup", "5", "--warmup-both", "--out", str(png), "--gif",
                           str(gif), "--frames", "4", "--json"])  # fmt: skip
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    labels = [r["optimizer"] for r in result["results"]]
    assert labels == ["sgd + warm-up", "sgd", "adam + warm-up", "adam"]
    adam = result["results"][3]
    assert adam["settings"]["lr"] == 0.3 and adam["settings"]["betas"] == [0.8, 0.99]
    assert all(r["steps"] == 30 for r in result["results"])
    assert_picture(png)
    assert_picture(gif, kind="GIF")


def test_paths_table(tmp_path):
    code, out, err = _run(["paths", "--optimizers", "momentum", "--steps", "20",
                           "--out", str(tmp_path / "p.png")])  # fmt: skip
    assert code == 0, err
    assert "rosenbrock" in out and "momentum" in out and "p.png" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--surface", "ring"], "--surface 'ring' is not a test surface"),
        (["--optimizers", "adm"], "unknown optimizer 'adm' (did you mean 'adam'?)"),
        (["--adam.foo", "1"], "Adam has no setting 'foo'"),
        (["--lr.sgd", "-1", "--optimizers", "sgd"], "--lr.sgd must be a number > 0"),
        (["--lr.adam", "0.1", "--optimizers", "sgd"], "settings for adam"),
        (["--warmup-both"], "also pass --warmup N"),
        (["--start", "1"], "--start must be two numbers"),
        (["--steps", "0"], "--steps must be between 1 and 100000"),
        (["--adam.betas", "2,3", "--optimizers", "adam"], "an optimizer rejected its settings"),
    ],
)
def test_paths_errors(args, message, tmp_path):
    code, _, err = _run(["paths", *args, "--out", str(tmp_path / "x.png")])
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_help_lists_the_new_commands():
    code, out, _ = _run(["--help"])
    assert code == 0
    for name in ("paths", "plot", "report"):
        assert re.search(rf"^  {name}\s", out, flags=re.MULTILINE)
    with pytest.raises(SystemExit) as done:  # argparse prints the help and exits 0
        _run(["paths", "--help"])
    assert done.value.code == 0
