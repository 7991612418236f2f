"""The run configuration: schema defaults, file and flag parsing, validation messages, TOML out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gradstep import config as C


def test_defaults_cover_every_key_and_pass_their_own_checks():
    cfg = C.defaults()
    for path, key in C.SCHEMA.items():
        assert C.get(cfg, path) == key.default
    again, explicit = C.resolve(tomllib.loads(C.dumps(cfg)))
    assert again == cfg
    assert "optimizer.lr" in explicit


def test_flags_override_the_file_and_accept_both_spellings():
    data = {"optimizer": {"name": "sgd", "lr": 0.5}, "train": {"epochs": 7}}
    flags = [
        ("optimizer.lr", "0.01"),
        ("optimizer.weight-decay", "1e-4"),
        ("model.layers", "2,16,8,2"),
        ("data.batch_size", "full"),
        ("data.options.noise", "0.2"),
        ("data.options.n-samples", "40"),
        ("train.metrics", "accuracy,f1"),
        ("stop.patience", "3"),
    ]
    cfg, explicit = C.resolve(data, flags)
    assert cfg["optimizer"]["name"] == "sgd"
    assert cfg["optimizer"]["lr"] == 0.01
    assert cfg["optimizer"]["weight_decay"] == 1e-4
    assert cfg["model"]["layers"] == [2, 16, 8, 2]
    assert cfg["data"]["batch_size"] == "full"
    assert cfg["data"]["options"] == {"noise": 0.2, "n_samples": 40}
    assert cfg["train"]["epochs"] == 7
    assert cfg["train"]["metrics"] == ["accuracy", "f1"]
    assert cfg["stop"]["patience"] == 3
    assert {"optimizer.lr", "train.epochs", "model.layers"} <= explicit


def test_list_flags_take_toml_and_single_values():
    cfg, _ = C.resolve(None, [("model.hidden", "[32, 16]"), ("optimizer.betas", "[0.8, 0.9]")])
    assert cfg["model"]["hidden"] == [32, 16]
    assert cfg["optimizer"]["betas"] == [0.8, 0.9]
    cfg, _ = C.resolve(None, [("model.hidden", "12")])
    assert cfg["model"]["hidden"] == [12]
    cfg, _ = C.resolve(None, [("model.hidden", "")])
    assert cfg["model"]["hidden"] == []


def test_explicit_layers_are_checked_and_filled_with_defaults():
    text = '[{type="linear", out=8}, {type="ReLU"}, {type="dropout"}, {type="linear"}]'
    cfg, _ = C.resolve(None, [("model.layer", text)])
    assert cfg["model"]["layer"] == [
        {"type": "linear", "out": 8, "bias": True},
        {"type": "relu"},
        {"type": "dropout", "p": 0.5},
        {"type": "linear", "bias": True},
    ]


def test_booleans_and_optional_values():
    cfg, _ = C.resolve({"data": {"standardize": False}}, [("output.plot", "no")])
    assert cfg["data"]["standardize"] is False
    assert cfg["output"]["plot"] is False
    cfg, _ = C.resolve(None, [("stop.target_loss", "0.1"), ("stop.time_budget", "none")])
    assert cfg["stop"]["target_loss"] == 0.1
    assert cfg["stop"]["time_budget"] == C.NONE


@pytest.mark.parametrize(
    ("data", "flags", "needle"),
    [
        (
            {"optimizer": {"learning_rate": 0.1}},
            [],
            "unknown key optimizer.learning_rate in cfg.toml; did you mean optimizer.lr?",
        ),
        (
            {"optimiser": {"lr": 0.1}},
            [],
            "unknown section [optimiser] in cfg.toml; did you mean [optimizer]?",
        ),
        (None, [("optimizer.lerning_rate", "1")], "did you mean --optimizer.lr"),
        (None, [("train.epoch", "3")], "did you mean --train.epochs"),
        (
            None,
            [("optimizer.lr", "fast")],
            "--optimizer.lr must be a number >= 0 or \"auto\", got 'fast'",
        ),
        (
            None,
            [("data.batch_size", "0")],
            '--data.batch_size must be a positive integer or "full"',
        ),
        (None, [("optimizer.name", "adamm")], "--optimizer.name must be one of sgd, momentum"),
        (None, [("optimizer.betas", "0.9,0.99,0.999")], "(2 of them)"),
        (None, [("model.dropout", "1")], "--model.dropout must be a number >= 0 and < 1"),
        (None, [("train.metrics", "acuracy")], "did you mean accuracy"),
        (
            {"train": {"epochs": "ten"}},
            [],
            "train.epochs in cfg.toml must be an integer >= 1, got 'ten'",
        ),
        ({"train": {"epochs": True}}, [], "train.epochs in cfg.toml must be an integer"),
        ({"train": 3}, [], "train in cfg.toml must be a table"),
        (
            None,
            [("optimizer.name", "sgd"), ("optimizer.betas", "0.5,0.6")],
            "optimizer.betas is set but only used when optimizer.name = 'adam' or 'adamw'",
        ),
        (
            None,
            [("model.layers", "2,4,2"), ("model.hidden", "8")],
            "model.hidden is set but only used when neither model.layers",
        ),
        (
            None,
            [("model.layer", '[{type="linar"}]')],
            "unknown type 'linar' (did you mean 'linear'?)",
        ),
        (None, [("model.layer", '[{type="dropout", rate=0.1}]')], "has no field 'rate'"),
        (None, [("model.layer", "[{out=3}]")], "needs a type"),
    ],
)
def test_errors_name_the_key_and_the_fix(data, flags, needle):
    with pytest.raises(C.ConfigError) as err:
        C.resolve(data, flags, source="cfg.toml")
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_meta_is_ignored_and_unused_keys_are_left_out(tmp_path):
    cfg, _ = C.resolve(None, [("optimizer.name", "sgd"), ("optimizer.lr", "0.3")])
    text = C.dumps(cfg, meta={"seed": 5, "architecture": [{"type": "relu"}]})
    parsed = tomllib.loads(text)
    assert "betas" not in parsed["optimizer"]  # Adam's key, unused by sgd
    assert parsed["meta"]["seed"] == 5
    path = tmp_path / "config.toml"
    path.write_text(text)
    again, _ = C.resolve(C.load_file(path))
    assert again == cfg


def test_long_arrays_stay_valid_toml():
    values = [i / 7 for i in range(80)]
    text = C.dumps(C.defaults(), meta={"mean": values, "names": [f"f{i}" for i in range(40)]})
    parsed = tomllib.loads(text)
    assert parsed["meta"]["mean"] == values
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "hidden = [128, 64]" in text


def test_hash_ignores_the_output_section():
    a, _ = C.resolve(None, [("output.dir", "x")])
    b, _ = C.resolve(None, [("output.dir", "y")])
    c, _ = C.resolve(None, [("optimizer.lr", "0.1")])
    assert C.config_hash(a) == C.config_hash(b) != C.config_hash(c)


def test_help_lists_every_key_with_its_default():
    text = C.format_help()
    for path, key in C.SCHEMA.items():
        line = next(
            ln
            for ln in text.splitlines()
            if ln.split() and ln.split()[0] in (f"--{path}", f"--{path}.NAME")
        )
        assert C._shown_default(key) in line
        assert key.help[:20] in line


def test_file_errors(tmp_path):
    with pytest.raises(C.ConfigError, match="does not exist"):
        C.load_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3\n")
    with pytest.raises(C.ConfigError, match="not valid TOML"):
        C.load_file(bad)


def test_suggestions_use_aliases_and_names():
    assert C.suggest_key("learning_rate") == "optimizer.lr"
    assert C.suggest_key("optimizer.momentun") == "optimizer.momentum"
    assert C.suggest_key("epochs") == "train.epochs"
    assert C.suggest_key("zzzzzz") is None


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    cfg, explicit = C.resolve(C.load_file(path), source=str(path))
    assert "data.name" in explicit
