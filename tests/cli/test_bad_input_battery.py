"""The command line against bad input: every case exits with status 2, prints exactly one line
``gradstep: error: ...`` on standard error naming the thing and a fix as a flag, shows no
traceback, and changes no file that was there before (nor leaves a new one behind).

The CLI's ``main`` runs in process; a module-level workspace holds one trained run (on a CSV
file) and the files the cases read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradstep.cli import main

QUICK = ["--train.verbose", "0", "--output.plot", "false", "--train.epochs", "1"]


def _table(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(rows) + "\n").encode(encoding))
    return path


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> dict[str, Path]:
    """The workspace: good and bad files, and one run trained on ``good.csv``."""
    root = tmp_path_factory.mktemp("battery")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    labels = np.array(["cat", "dog", "eel"])[(x[:, 0] > 0).astype(int) + (x[:, 1] > 1)]
    good = ["a,b,c,species"] + [
        f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(x, labels, strict=True)
    ]
    p: dict[str, Path] = {"root": root}
    p["good"] = _table(root / "good.csv", good)
    p["features"] = _table(root / "features.csv", ["a,b,c", "1,2,3", "4,5,6"])
    runs = root / "runs"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(
            [
                "train",
                "--data.path",
                str(p["good"]),
                "--data.target",
                "species",
                "--model.hidden",
                "4",
                "--output.dir",
                str(runs),
                *QUICK,
                "--json",
            ]
        )
    assert code == 0
    p["run"] = Path(json.loads(buf.getvalue().strip().splitlines()[-1])["run_dir"])
    broken = root / "broken-run"
    shutil.copytree(p["run"], broken)
    weights = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    p["broken_run"] = broken
    bad_toml = root / "bad-config-run"
    shutil.copytree(p["run"], bad_toml)
    (bad_toml / "config.toml").write_text("[train\nepochs = 2\n")
    p["bad_toml_run"] = bad_toml
    p["no_state"] = root / "no-state-run"
    shutil.copytree(p["run"], p["no_state"])
    (p["no_state"] / "state.safetensors").unlink()

    p["latin1"] = _table(root / "latin1.csv", ["a,b,label", "1,2,0", "café,3,1"], "latin-1")
    p["utf16"] = _table(root / "utf16.csv", ["a,b,label", "1,2,0", "3,4,1"], "utf-16")
    p["semicolon"] = _table(root / "semicolon.csv", ["a;b;label", "1;2;0", "3;4;1"])
    p["tabs_in_csv"] = _table(root / "tabs.csv", ["a\tb\tlabel", "1\t2\t0", "3\t4\t1"])
    p["folder"] = root / "a-folder.csv"
    p["folder"].mkdir()
    p["empty"] = _table(root / "empty.csv", [""])
    p["header_only"] = _table(root / "header.csv", ["a,b,label"])
    p["truncated"] = root / "truncated.csv"
    p["truncated"].write_bytes(p["good"].read_bytes()[:-9])
    p["ragged"] = _table(root / "ragged.csv", ["a,b,label", "1,2,0", "3,4", "5,6,1"])
    p["mixed"] = _table(root / "mixed.csv", ["a,b,label", "1,2,0", "3,four,1"])
    p["huge"] = _table(root / "huge.csv", ["a,b,label", "1,1e400,0", "3,4,1"])
    p["f32"] = _table(root / "f32.csv", ["a,b,label", "1,1e39,0", "3,4,1"])
    p["nan"] = _table(root / "nan.csv", ["a,b,label", "1,nan,0", "3,4,1"])
    prices = [f"{i},{40 + i},{100000 + 7919 * i}" for i in range(30)]
    p["prices"] = _table(root / "prices.csv", ["rooms,area,price", *prices])
    p["negative"] = _table(root / "negative.csv", ["a,label", "1,-1", "2,1", "3,0"])
    p["floats"] = _table(root / "floats.csv", ["a,label", "1,0.5", "2,1.5", "3,0.25"])
    p["dup"] = _table(root / "dup.csv", ["a,a,label", "1,2,0", "3,4,1"])
    p["one_row"] = _table(root / "one.csv", ["a,b,label", "1,2,0"])
    p["one_class"] = _table(root / "oneclass.csv", ["a,b,label"] + [f"{i},{i},x" for i in range(9)])
    p["constant"] = _table(root / "constant.csv", ["a,b,y"] + [f"{i},{i},2.5" for i in range(9)])
    p["xlsx"] = root / "table.xlsx"
    p["xlsx"].write_bytes(b"PK\x03\x04 not really a workbook")
    unicode_dir = root / "données"
    unicode_dir.mkdir()
    p["unicode"] = _table(unicode_dir / "ünï-côdé.csv", ["α,β,γ", "1,2,3", "4,5,6"])

    npz = io.BytesIO()
    np.savez(npz, x=np.ones((4, 2)), y=np.arange(4))
    p["npz_truncated"] = root / "truncated.npz"
    p["npz_truncated"].write_bytes(npz.getvalue()[:150])
    p["npz_object"] = root / "object.npz"
    np.savez(p["npz_object"], x=np.array([{"a": 1}] * 2, dtype=object), y=np.arange(2))
    p["npz_uneven"] = root / "uneven.npz"
    np.savez(p["npz_uneven"], x=np.ones((3, 2)), y=np.arange(4))
    p["npz_float_y"] = root / "floaty.npz"
    np.savez(p["npz_float_y"], x=np.ones((6, 2)), y=np.linspace(0, 1, 6))
    p["npz_claim"] = root / "claim.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    with zipfile.ZipFile(p["npz_claim"], "w") as archive:
        archive.writestr("x.npy", header.getvalue() + b"\0" * 16)
        archive.writestr("y.npy", header.getvalue())

    p["toml_broken"] = _table(root / "broken.toml", ["[train", "epochs = 2"])
    p["toml_bom"] = root / "bom.toml"
    p["toml_bom"].write_bytes(b"\xef\xbb\xbf[train]\nepochs = 2\n")
    p["toml_deep"] = _table(root / "deep.toml", ["[train]", "epochs = " + "[" * 3000 + "]" * 3000])
    p["toml_inf"] = _table(root / "inf.toml", ["[train]", "epochs = inf"])
    p["toml_unicode"] = _table(root / "unicode.toml", ['["優化"]', "lr = 0.1"])
    p["toml_folder"] = root / "configs"
    p["toml_folder"].mkdir()
    p["a_file"] = _table(root / "not-a-folder", ["x"])

    p["labels_unknown"] = _table(root / "unknown.csv", ["a,b,c,species", "1,2,3,cat", "1,2,3,yak"])
    p["missing_feature"] = _table(root / "missing.csv", ["a,b,species", "1,2,cat", "3,4,dog"])
    p["pred_dup"] = _table(root / "pred-dup.csv", ["a,a,c", "1,2,3"])
    p["pred_wide"] = _table(root / "pred-wide.csv", ["1,2,3,4,5", "6,7,8,9,10"])
    p["pred_nan"] = _table(root / "pred-nan.csv", ["a,b,c", "1,2,3", "4,inf,6"])
    p["existing_output"] = _table(root / "predictions.csv", ["class,label", "0,cat"])
    return p


def _run(ws: dict[str, Path], argv: list[str]) -> list[str]:
    def fill(arg: str) -> str:
        return str(ws[arg[1:-1]]) if arg.startswith("{") and arg.endswith("}") else arg

    return [fill(a) for a in argv]


TRAIN = ["train", *QUICK, "--output.dir", "{root}/new-runs"]

CASES = [
    # -- the training file: encodings, delimiters, paths, sizes, types
    ("latin-1", [*TRAIN, "--data.path", "{latin1}"], "not UTF-8 text"),
    ("utf-16", [*TRAIN, "--data.path", "{utf16}"], "UTF-16"),
    ("semicolons", [*TRAIN, "--data.path", "{semicolon}"], "pass --data.delimiter ';'"),
    ("tabs in a .csv", [*TRAIN, "--data.path", "{tabs_in_csv}"], "pass --data.delimiter 'tab'"),
    (
        "bad delimiter",
        [*TRAIN, "--data.path", "{good}", "--data.delimiter", ";;"],
        "data.delimiter must be",
    ),
    ("a folder", [*TRAIN, "--data.path", "{folder}"], "is a folder"),
    ("missing file", [*TRAIN, "--data.path", "{root}/nothing.csv"], "does not exist"),
    ("empty file", [*TRAIN, "--data.path", "{empty}"], "has no data rows"),
    ("header only", [*TRAIN, "--data.path", "{header_only}"], "has no data rows"),
    (
        "truncated",
        [*TRAIN, "--data.path", "{truncated}", "--data.target", "species"],
        "expected 4 fields",
    ),
    ("ragged", [*TRAIN, "--data.path", "{ragged}"], "line 3: expected 3 fields, found 2"),
    ("mixed types", [*TRAIN, "--data.path", "{mixed}"], "column 'b': cell 'four' is not a number"),
    ("1e400", [*TRAIN, "--data.path", "{huge}"], "'1e400' is not finite"),
    ("beyond float32", [*TRAIN, "--data.path", "{f32}"], "beyond the float32 range"),
    ("nan", [*TRAIN, "--data.path", "{nan}"], "'nan' is not finite"),
    (
        "prices as classes",
        [*TRAIN, "--data.path", "{prices}", "--data.target", "price"],
        "--data.task regression",
    ),
    ("negative labels", [*TRAIN, "--data.path", "{negative}"], "--data.task regression"),
    (
        "fractional classes",
        [*TRAIN, "--data.path", "{floats}", "--data.task", "classification"],
        "--data.task regression",
    ),
    ("duplicate names", [*TRAIN, "--data.path", "{dup}"], "column 'a' appears twice in the header"),
    ("no target column", [*TRAIN, "--data.path", "{good}"], "pass --data.target NAME"),
    (
        "target index out of range",
        [*TRAIN, "--data.path", "{good}", "--data.target", "9"],
        "index 9 is out of range",
    ),
    ("one row", [*TRAIN, "--data.path", "{one_row}"], "nothing to learn"),
    ("one class", [*TRAIN, "--data.path", "{one_class}"], "nothing to learn from one class"),
    (
        "constant target",
        [*TRAIN, "--data.path", "{constant}", "--data.target", "y"],
        "has the value 2.5",
    ),
    ("a workbook", [*TRAIN, "--data.path", "{xlsx}"], "neither a .csv / .tsv table nor an .npz"),
    (
        "unicode names",
        [*TRAIN, "--data.path", "{unicode}"],
        "ünï-côdé.csv line 1: target column 'label'",
    ),
    ("npz truncated", [*TRAIN, "--data.path", "{npz_truncated}"], "not a readable .npz archive"),
    ("npz objects", [*TRAIN, "--data.path", "{npz_object}"], "which is never done"),
    ("npz uneven", [*TRAIN, "--data.path", "{npz_uneven}"], "the same number of samples"),
    (
        "npz float labels",
        [*TRAIN, "--data.path", "{npz_float_y}", "--data.task", "classification"],
        "--data.task regression",
    ),
    ("npz claims 10^12", [*TRAIN, "--data.path", "{npz_claim}"], "declares shape (1000000000000,)"),
    # -- config files and flags
    ("broken toml", ["train", "{toml_broken}"], "is not valid TOML"),
    ("toml with a BOM", ["train", "{toml_bom}"], "is not valid TOML"),
    ("deeply nested toml", ["train", "{toml_deep}"], "nests arrays or tables too deeply"),
    ("inf epochs", ["train", "{toml_inf}"], "train.epochs in"),
    ("unicode section", ["train", "{toml_unicode}"], "unknown section [優化]"),
    ("config folder", ["train", "{toml_folder}"], "is a folder without a config.toml"),
    ("negative epochs", [*TRAIN, "--train.epochs", "-1"], "--train.epochs must be an integer >= 1"),
    ("huge lr", [*TRAIN, "--optimizer.lr", "1e400"], "--optimizer.lr must be a number"),
    (
        "output dir is a file",
        ["train", *QUICK, "--output.dir", "{a_file}"],
        "cannot create output.dir",
    ),
    ("resume without state", ["train", "--resume", "{no_state}"], "no state.safetensors there"),
    # -- evaluate and predict
    (
        "evaluate unknown label",
        ["evaluate", "{run}", "--data.path", "{labels_unknown}"],
        "'yak' is not one of",
    ),
    (
        "evaluate missing feature",
        ["evaluate", "{run}", "--data.path", "{missing_feature}"],
        "has no column 'c'",
    ),
    (
        "evaluate both sources",
        ["evaluate", "{run}", "--data.path", "{good}", "--dataset", "iris"],
        "not both",
    ),
    ("evaluate damaged weights", ["evaluate", "{broken_run}"], "model.safetensors"),
    ("evaluate broken config", ["evaluate", "{bad_toml_run}"], "is not valid TOML"),
    (
        "predict into its input",
        ["predict", "{run}", "--input", "{features}", "--output", "{features}"],
        "is the --input file",
    ),
    (
        "predict into a folder",
        ["predict", "{run}", "--input", "{features}", "--output", "{folder}"],
        "is a folder",
    ),
    (
        "predict duplicate header",
        ["predict", "{run}", "--input", "{pred_dup}"],
        "column 'a' appears twice",
    ),
    (
        "predict wrong width",
        ["predict", "{run}", "--input", "{pred_wide}"],
        "has 5 feature columns but the model takes 3",
    ),
    (
        "predict infinite value",
        ["predict", "{run}", "--input", "{pred_nan}"],
        "line 3 holds NaN or an infinite value",
    ),
    ("predict empty", ["predict", "{run}", "--input", "{empty}"], "has no rows"),
    (
        "predict a workbook",
        ["predict", "{run}", "--input", "{xlsx}"],
        "must be a .csv, .tsv or .npz",
    ),
    ("predict a folder", ["predict", "{run}", "--input", "{folder}"], "is a folder"),
]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a digest of its bytes (folders: "dir")."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[os.path.join(dirpath, name)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[path] = hashlib.sha256(f.read()).hexdigest()
    return out


def check_refused(ws: dict[str, Path], capsys, argv: list[str], needle: str) -> str:
    before = _snapshot(ws["root"])
    capsys.readouterr()
    code = main(_run(ws, argv))
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradstep: error: "), err
    assert "Traceback" not in err + captured.out
    assert needle in lines[0], lines[0]
    for python_spelling in ("task=", "stratify=", "classes=[", "target=", "delimiter="):
        assert python_spelling not in lines[0], lines[0]  # the fix is a flag
    assert _snapshot(ws["root"]) == before, "a file changed, appeared or went away"
    return lines[0]


def test_the_battery_has_at_least_forty_cases():
    assert len(CASES) >= 40 and len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(("argv", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(ws, capsys, argv, needle):
    check_refused(ws, capsys, argv, needle)


def test_a_read_only_output_dir(ws, capsys, monkeypatch):
    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    argv = [*TRAIN, "--data.path", "{good}", "--data.target", "species"]
    line = check_refused(ws, capsys, argv, "pass a writable --output.dir")
    assert "Read-only file system" in line


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_predictions_that_cannot_be_written_keep_the_previous_file(ws, capsys, monkeypatch, code):
    def failing(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr(os, "replace", failing)
    argv = ["predict", "{run}", "--input", "{features}", "--output", "{existing_output}"]
    line = check_refused(ws, capsys, argv, os.strerror(code))
    assert str(ws["existing_output"]) in line
