"""A component added to its family's table is all the command line needs: the choices, --help,
which keys apply, "auto" and the builders follow (test entries are removed after each test)."""

from __future__ import annotations

import tomllib
from typing import Any, ClassVar

import pytest

import gradstep as gs
from gradstep import config as C
from gradstep.cli import _build as B
from gradstep.cli import _dataset as DS
from gradstep.cli import main
from gradstep.components import Default
from gradstep.nn import registry as nn_tables
from gradstep.optim import registry as optim_tables
from gradstep.optim.sgd import SGD

QUICK = ["--data.name", "xor", "--train.epochs", "1", "--train.verbose", "0"]
CLASSES = DS.Data("c", "classification", list(range(100)), [0], None, 4, 3, 3)
VALUES = DS.Data("r", "regression", list(range(100)), [0], None, 4, 1, None)


class Dummy(SGD):
    """SGD under another name, with defaults of its own."""

    built: ClassVar[list[Any]] = []

    def __init__(self, params: Any, lr: float = 0.02, momentum: float = 0.25, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        Dummy.built.append(self)


DUMMY = optim_tables.OptimizerEntry(
    "dummy",
    Dummy,
    cli_defaults={"weight_decay": Default(0.001, "a test of the CLI-default column")},
    help="a test optimizer",
)


@pytest.fixture
def dummy(monkeypatch):
    Dummy.built.clear()
    monkeypatch.setitem(optim_tables.OPTIMIZERS, "dummy", DUMMY)


def help_line(path: str) -> str:
    return next(ln for ln in C.format_help().splitlines() if ln.split()[:1] == [f"--{path}"])


def test_a_new_optimizer_is_a_choice_with_help(dummy):
    assert "dummy" in C.OPTIMIZERS
    assert C.SCHEMA["optimizer.name"].choices[-1] == "dummy"
    line = help_line("optimizer.name")
    assert "dummy = a test optimizer" in line and line.endswith("adamw, dummy)")
    # its defaults join the "auto" texts; momentum now applies to it too
    assert "0.25 for dummy" in help_line("optimizer.momentum")
    assert "'rmsprop' or 'dummy'" in help_line("optimizer.momentum")
    assert "0.02 for dummy" in help_line("optimizer.lr")


def test_a_new_optimizer_takes_the_keys_its_constructor_takes(dummy):
    cfg, _ = C.resolve(None, [("optimizer.name", "dummy"), ("optimizer.momentum", "0.5")])
    assert cfg["optimizer"]["momentum"] == 0.5
    with pytest.raises(C.ConfigError, match="optimizer.betas is set but only used when"):
        C.resolve(None, [("optimizer.name", "dummy"), ("optimizer.betas", "0.5,0.6")])
    with pytest.raises(C.ConfigError, match="only used when optimizer.name = 'sgd' or 'momentum'"):
        C.resolve(None, [("optimizer.name", "dummy"), ("optimizer.nesterov", "true")])
    with pytest.raises(C.ConfigError, match="--optimizer.momentum must be a number >= 0 and < 1"):
        C.resolve(None, [("optimizer.name", "dummy"), ("optimizer.momentum", "1.5")])
    cfg, _ = C.resolve(None, [("optimizer.name", "dummy")])
    opt = B.settle(cfg, CLASSES)["optimizer"]
    # lr and momentum: the constructor's defaults; weight_decay: the table's CLI default
    assert (opt["lr"], opt["momentum"], opt["weight_decay"]) == (0.02, 0.25, 0.001)


def test_gradstep_train_builds_a_new_optimizer(dummy, tmp_path, capsys):
    argv = ["train", *QUICK, "--optimizer.name", "dummy", "--output.dir", str(tmp_path)]
    assert main([*argv, "--output.plot", "false"]) == 0
    assert len(Dummy.built) == 1
    group = Dummy.built[0].param_groups[0]
    assert (group["initial_lr"], group["momentum"], group["weight_decay"]) == (0.02, 0.25, 0.001)
    run = next(p for p in tmp_path.iterdir() if p.is_dir())
    written = tomllib.loads((run / "config.toml").read_text())["optimizer"]
    assert written == {"name": "dummy", "lr": 0.02, "momentum": 0.25, "weight_decay": 0.001}


def test_a_removed_optimizer_is_gone_again(monkeypatch):
    with monkeypatch.context() as m:
        m.setitem(optim_tables.OPTIMIZERS, "dummy", DUMMY)
        assert "dummy" in C.SCHEMA["optimizer.name"].choices
    assert "dummy" not in C.OPTIMIZERS and "dummy" not in C.format_help()
    with pytest.raises(C.ConfigError, match="--optimizer.name must be one of sgd"):
        C.resolve(None, [("optimizer.name", "dummy")])
    assert C.SCHEMA["optimizer.momentum"].applies_text.endswith("'rmsprop'")


def test_a_new_schedule_is_one_entry(monkeypatch):
    entry = optim_tables.ScheduleEntry(
        "halving",
        gs.optim.lr_scheduler.StepLR,
        cli_defaults={"step_size": Default(3, "StepLR has none"), "gamma": Default(0.5, "halve")},
    )
    monkeypatch.setitem(optim_tables.SCHEDULES, "halving", entry)
    assert "auto: 10 for step, 3 for halving" in help_line("schedule.step_size")
    assert "0.5 for halving" in help_line("schedule.gamma")
    cfg, _ = C.resolve(None, [("schedule.name", "halving")])
    cfg = B.settle(cfg, CLASSES)
    assert (cfg["schedule"]["step_size"], cfg["schedule"]["gamma"]) == (3, 0.5)
    sched = B.build_scheduler(cfg, gs.optim.SGD([gs.nn.Parameter(gs.zeros(1).data)], lr=1.0))
    assert type(sched).__name__ == "StepLR"
    assert (sched.state_dict()["step_size"], sched.state_dict()["gamma"]) == (3, 0.5)
    cfg, _ = C.resolve(None, [("schedule.name", "step")])  # step keeps its own values
    assert B.settle(cfg, CLASSES)["schedule"]["step_size"] == 10


def test_a_table_entry_without_a_default_for_a_key_it_takes_is_reported(monkeypatch):
    entry = optim_tables.ScheduleEntry("bare", gs.optim.lr_scheduler.StepLR)
    monkeypatch.setitem(optim_tables.SCHEDULES, "bare", entry)
    with pytest.raises(ValueError, match="schedule 'bare' has no default for step_size; give"):
        C.format_help()


def test_a_new_loss_offered_to_the_command_line_is_one_entry(monkeypatch):
    entry = nn_tables.LossEntry("huber", gs.nn.HuberLoss, cli=True)
    monkeypatch.setitem(nn_tables.LOSSES, "huber", entry)
    assert C.LOSSES[-1] == "huber"
    cfg, _ = C.resolve(None, [("loss.name", "huber")])
    loss = B.build_loss(B.settle(cfg, VALUES))
    assert type(loss) is gs.nn.HuberLoss and loss.reduction == "mean"
    with pytest.raises(C.ConfigError, match="'huber' is a regression loss"):
        B.settle(cfg, CLASSES)


def test_a_new_activation_is_one_entry(monkeypatch):
    entry = nn_tables.LayerEntry(
        "softplus",
        gs.nn.Softplus,
        fields={"beta": nn_tables.LayerField("float", low=0.0)},
        activation=("hidden",),
    )
    monkeypatch.setitem(nn_tables.LAYERS, "softplus", entry)
    assert "softplus" in C.ACTIVATIONS
    cfg, _ = C.resolve(None, [("model.layer", '[{type="linear", out=5}, {type="softplus"}]')])
    assert cfg["model"]["layer"][1] == {"type": "softplus", "beta": 1.0}  # Softplus's default
    layer = '[{type="linear", out=5}, {type="softplus", beta=2}, {type="linear"}]'
    cfg, _ = C.resolve(None, [("model.layer", layer)])
    model = B.build_model(B.architecture(cfg, CLASSES))
    assert type(model[1]) is gs.nn.Softplus and model[1].beta == 2.0
    with pytest.raises(C.ConfigError, match="has no field 'gamma'"):
        C.resolve(None, [("model.layer", '[{type="softplus", gamma=2}]')])


def test_a_new_width_setting_layer_says_how_the_width_flows(monkeypatch):
    width = nn_tables.LayerField("int", low=1)
    entry = nn_tables.LayerEntry(
        "dense",
        gs.nn.Linear,
        rename={"inputs": "in_features", "units": "out_features"},
        fields={"units": width, "inputs": width},
        in_field="inputs",
        out_field="units",
    )
    monkeypatch.setitem(nn_tables.LAYERS, "dense", entry)
    layer = '[{type="dense", units=6}, {type="relu"}, {type="dense"}]'
    cfg, _ = C.resolve(None, [("model.layer", layer)])
    layers = B.architecture(cfg, CLASSES)
    assert [(s.get("inputs"), s.get("units")) for s in layers] == [(4, 6), (None, None), (6, 3)]
    model = B.build_model(layers)
    assert model[0].weight.shape == (6, 4) and model[2].weight.shape == (3, 6)
    cfg, _ = C.resolve(None, [("model.layer", '[{type="dense", inputs=5, units=2}]')])
    with pytest.raises(C.ConfigError, match=r"model.layer\[0\] \(dense\) has inputs = 5 but"):
        B.architecture(cfg, CLASSES)


def test_compare_lists_the_tables_optimizers_with_their_learning_rates(dummy, capsys):
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    assert "from sgd, momentum, adagrad, rmsprop, adam, adamw, dummy" in out
    assert "(default: sgd,momentum,adagrad,rmsprop,adam,dummy)" in out
    assert "sgd 0.1, momentum 0.05, adagrad 0.05, rmsprop 0.002, adam 0.003, dummy 0.02" in out
