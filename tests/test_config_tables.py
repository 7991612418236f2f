"""How the configuration reads the tables: the "auto" help text, the value an unused "auto" key
settles to, and a schema that follows the tables as they change."""

from __future__ import annotations

import pytest

from gradstep import config as C
from gradstep import config_tables as T
from gradstep.optim import registry as optim_tables


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"sgd": 0.0, "momentum": 0.9, "rmsprop": 0.0}, "0.9 for momentum, else 0"),
        ({"a": 1e-10, "b": 1e-8, "c": 1e-8, "d": 1e-8}, "1e-10 for a, else 1e-8"),
        ({"step": 0.1, "exponential": 0.95}, "0.1 for step, 0.95 for exponential"),
        (
            {"a": 0.1, "b": 0.05, "c": 0.05, "d": 0.003, "e": 0.003},
            "0.1 for a, 0.05 for b/c, 0.003 for d/e",
        ),
        ({"ce": 0.1}, "0.1"),
        ({"x": "mean", "y": "sum", "z": "mean"}, "sum for y, else mean"),
    ],
)
def test_auto_text_names_the_exceptions_and_the_common_value(values, text):
    assert T._auto_text(values) == text


def test_an_unused_auto_key_settles_to_the_library_default_most_components_share():
    keys = {k.name: k for k in C.component_keys("optimizer")}
    assert T.unused_value(keys["momentum"]) == 0.0  # not the momentum entry's 0.9
    assert T.unused_value(keys["eps"]) == 1e-8  # three of four, Adagrad's 1e-10 aside
    label_smoothing = C.SCHEMA["loss.label_smoothing"]
    assert T.unused_value(label_smoothing) == 0.0  # not cross_entropy's CLI default 0.1


def test_keys_taken_by_every_component_have_no_condition():
    assert C.SCHEMA["optimizer.lr"].applies is None
    assert C.SCHEMA["optimizer.weight_decay"].applies is None
    assert C.SCHEMA["loss.reduction"].applies is None
    warmup = C.SCHEMA["schedule.warmup_epochs"]  # a CLI key about warmup_steps
    assert warmup.applies_text == (
        "schedule.name = 'warmup_cosine' or 'warmup_linear' or 'warmup_constant'"
    )


def test_the_schema_follows_the_tables(monkeypatch):
    before = C.SCHEMA["optimizer.weight_decay"]
    monkeypatch.delitem(optim_tables.OPTIMIZERS, "adamw")
    after = C.SCHEMA["optimizer.weight_decay"]
    assert after.default == 0.0 and before.default == C.AUTO  # every one left has 0
    assert "adamw" not in C.OPTIMIZERS and len(C.OPTIMIZERS) == 5
    monkeypatch.undo()
    assert C.SCHEMA["optimizer.weight_decay"].default == C.AUTO
