"""The HTML run report: self-contained (every image an embedded data: URI, no http(s) reference
of any kind), escaped, and rendered by a real browser (headless Chromium) into a page that is
not blank and shows the pictures."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gradstep.viz import ReportFigure, render_report, run_report

C0_BLUE = np.array([31, 119, 180])  # matplotlib's first colour: only the pictures use it


def _write_run(root: Path, epochs: int = 5, spe: int = 4) -> Path:
    """A run directory as gradstep train writes it, by hand: metrics, steps, summary, config,
    gradient health and decision-boundary snapshots."""
    root.mkdir()
    with open(root / "metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "grad_norm"])
        for e in range(epochs):
            w.writerow([e, 1.0 / (e + 1), 0.5 + 0.1 * e, 1.1 / (e + 1), 0.5 + 0.09 * e, 0.01, 1.0])
    with open(root / "steps.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "epoch", "loss", "lr", "grad_norm"])
        for s in range(epochs * spe):
            w.writerow([s + 1, s // spe + 1, 1.0 / (1 + s / spe), 0.01 * min(1, (s + 1) / 6), 1])
    summary = {
        "run_dir": str(root),
        "train": {"loss": 0.2, "accuracy": 0.9},
        "val": {"loss": 0.25, "accuracy": 0.86},
        "epochs": epochs,
        "seconds": 0.5,
        "stop_reason": f"reached {epochs} epochs",
        "best_epoch": 4,
        "best_val_loss": 0.27,
        "dataset": "moons",
        "task": "classification",
        "seed": 0,
        "architecture": [{"type": "linear", "in": 2, "out": 8}, {"type": "relu"},
                         {"type": "linear", "in": 8, "out": 2}],
    }  # fmt: skip
    (root / "summary.json").write_text(json.dumps(summary))
    (root / "config.toml").write_text(
        '[data]\nname = "moons"\nbatch_size = 32\n\n[optimizer]\nname = "adam"\nlr = 0.01\n\n'
        '[schedule]\nname = "warmup_constant"\n\n[meta]\nnote = "<b>not bold</b> & co"\n'
    )
    steps = list(range(1, epochs * spe + 1))
    health = {
        "steps": steps,
        "steps_per_epoch": spe,
        "every": 1,
        "layers": {"0.weight": "Linear(2→8)", "2.weight": "Linear(8→2)"},
        "grad_norm": {"0.weight": [0.1] * len(steps), "2.weight": [0.5] * len(steps)},
        "update_ratio": {"0.weight": [1e-3] * len(steps), "2.weight": [2e-3] * len(steps)},
    }
    (root / "gradient_health.json").write_text(json.dumps(health))
    g = np.linspace(0, 1, 20)
    p1 = np.broadcast_to(g[None, :, None], (20, 20, 1))
    probs = np.concatenate([1 - p1, p1], axis=-1)[None].astype(np.float32)
    rng = np.random.default_rng(0)
    np.savez_compressed(root / "boundary.npz", epochs=np.array([5]),
                        bounds=np.array([-1.0, 1.0, -1.0, 1.0]), probs=probs,
                        x=rng.uniform(-1, 1, (30, 2)), y=rng.integers(0, 2, 30))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = _write_run(tmp_path_factory.mktemp("report") / "run")
    cm = np.array([[12, 3], [2, 13]])
    return run_report(root, confusion=cm, class_names=["left", "right"])


def test_report_embeds_every_picture_and_references_nothing_outside(report):
    page = report.read_text(encoding="utf-8")
    assert report.name == "report.html"
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(sources) == 4  # curves, confusion matrix, gradient health, decision boundaries
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert not re.search(r"https?://", page, flags=re.IGNORECASE)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page
    for heading in ("Summary", "Training curves", "Confusion matrix", "Gradient health",
                    "Decision boundaries", "Configuration"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in page
    assert "moons · MLP 2-8-2 relu · adam lr 0.01 · warmup_constant · batch 32" in page


def test_report_escapes_what_it_quotes(report):
    page = report.read_text(encoding="utf-8")
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; co" in page
    assert "<b>not bold</b>" not in page


def test_render_report_minimal():
    page = render_report("t <1>", facts=[("a", 1.5)], figures=[ReportFigure("F", b"\x89PNG")])
    assert "<title>t &lt;1&gt;</title>" in page
    assert 'src="data:image/png;base64,iVBORw=="' in page
    assert page.startswith("<!DOCTYPE html>")


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    why = "headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{why}; .ci/run installs it before the tests")
    pytest.skip(reason=why)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_renders_in_chromium(report, tmp_path):
    from PIL import Image

    url = report.resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1>moons · MLP 2-8-2 relu" in dom.stdout
    assert dom.stdout.count('src="data:image/png;base64,') == 4

    shot = tmp_path / "page.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2600", url)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
    assert rgb.shape[:2] == (2600, 1200)
    assert rgb.mean(axis=2).std() > 10  # not a blank page
    blue = np.linalg.norm(rgb - C0_BLUE, axis=2) < 40
    assert blue.sum() > 200  # the pictures were decoded and drawn
