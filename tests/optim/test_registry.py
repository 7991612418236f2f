"""The optimizer and schedule tables: "auto" is the library's default, which is PyTorch's, except
where the CLI-default column says otherwise (with a reason); every entry builds and trains."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep.components import REQUIRED, Default
from gradstep.optim.registry import OPTIMIZERS, SCHEDULES, OptimizerEntry, ScheduleEntry


def torch_defaults(factory) -> dict:
    params = inspect.signature(factory).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_auto_is_pytorchs_default_where_the_table_sets_none(name):
    entry = OPTIMIZERS[name]
    theirs = torch_defaults(getattr(torch.optim, entry.factory.__name__))
    ours = entry.defaults()
    shared = [p for p in ours if p in theirs and p not in entry.cli_defaults]
    assert "weight_decay" in shared  # the comparison is not empty
    for p in shared:
        assert ours[p] == theirs[p], (name, p)


@pytest.mark.parametrize(
    ("name", "torch_name"),
    [("step", "StepLR"), ("cosine", "CosineAnnealingLR"), ("plateau", "ReduceLROnPlateau")],
)
def test_schedule_defaults_are_pytorchs_where_the_table_sets_none(name, torch_name):
    entry = SCHEDULES[name]
    theirs = torch_defaults(getattr(torch.optim.lr_scheduler, torch_name))
    compared = 0
    for key, value in entry.defaults().items():
        param = entry.rename.get(key, key)
        if param in theirs and key not in entry.cli_defaults:
            assert value == theirs[param], (name, param)
            compared += 1
    assert compared >= 1


def test_cli_defaults_differ_from_the_library_and_say_why():
    for table in (OPTIMIZERS, SCHEDULES):
        for entry in table.values():
            library = entry.parameters()
            for param, default in entry.cli_defaults.items():
                assert default.why.strip(), (entry.name, param)
                assert library[param] is REQUIRED or library[param] != default.value, (
                    f"{entry.name}.{param} restates the library's default"
                )


def test_the_command_lines_learning_rates():
    lrs = {name: e.defaults()["lr"] for name, e in OPTIMIZERS.items()}
    assert lrs == {
        "sgd": 0.1,
        "momentum": 0.05,
        "adagrad": 0.05,
        "rmsprop": 0.002,
        "adam": 0.003,
        "adamw": 0.003,
    }
    assert OPTIMIZERS["momentum"].defaults()["momentum"] == 0.9
    assert OPTIMIZERS["sgd"].defaults()["momentum"] == 0


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_entry_minimises_a_quadratic_with_its_defaults(name):
    w = gs.nn.Parameter(np.array([1.0, -2.0]))
    entry = OPTIMIZERS[name]
    opt = entry.build([w], **{k: d.value for k, d in entry.cli_defaults.items()})
    for _ in range(5):
        opt.zero_grad()
        (0.5 * (w * w).sum()).backward()
        opt.step()
    assert np.all(np.abs(w.data) < [1.0, 2.0])


def test_list_values_become_tuples_where_the_library_takes_tuples():
    w = gs.nn.Parameter(np.zeros(2))
    opt = OPTIMIZERS["adam"].build([w], betas=[0.8, 0.95], lr=0.01)
    assert opt.param_groups[0]["betas"] == (0.8, 0.95)


def test_a_schedule_takes_config_names_and_values_from_the_run():
    entry = SCHEDULES["cosine"]
    assert "min_lr" in entry.parameters()
    assert not {"eta_min", "T_max", "optimizer"} & set(entry.parameters())
    opt = gs.optim.SGD([gs.nn.Parameter(np.zeros(1))], lr=1.0)
    sched = entry.build(opt, {"epochs": 7}, min_lr=0.01)
    assert (sched.state_dict()["T_max"], sched.state_dict()["eta_min"]) == (7, 0.01)
    assert SCHEDULES["none"].build(opt, {"epochs": 7}) is None


def test_a_cli_default_for_a_parameter_the_constructor_lacks_is_an_error():
    with pytest.raises(ValueError, match="cli_defaults names 'betas', which SGD does not take"):
        OptimizerEntry("typo", gs.optim.SGD, cli_defaults={"betas": Default((0.9, 0.9), "x")})
    with pytest.raises(ValueError, match="'T_max'"):
        ScheduleEntry(
            "typo",
            gs.optim.lr_scheduler.CosineAnnealingLR,
            cli_defaults={"T_max": Default(3, "x")},
            from_run={"T_max": "epochs"},
        )
