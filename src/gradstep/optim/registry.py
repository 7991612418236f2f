"""The optimizer and schedule tables: every optimizer and learning-rate schedule the run
configuration, ``gradstep train --help``, the command line's builders and "auto" read.

Adding an optimizer to the command line is one entry in OPTIMIZERS (a schedule: one entry in
SCHEDULES): its name becomes a choice of ``optimizer.name``; every ``optimizer.*`` key named like
one of its constructor's parameters applies to it; "auto" gives the constructor's own default,
unless the entry's ``cli_defaults`` column says otherwise, with a reason. A constructor parameter
that no config key is named after keeps its library default (a new key is one line in
``gradstep.config``).

>>> OPTIMIZERS["momentum"].defaults()["momentum"]
0.9
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..components import Default, Entry, table
from . import lr_scheduler as S
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["OPTIMIZERS", "SCHEDULES", "OptimizerEntry", "ScheduleEntry"]


@dataclass(frozen=True)
class OptimizerEntry(Entry):
    """An optimizer: ``factory(params, **hyperparameters)``. ``compared``: trained by
    ``gradstep compare`` when no ``--optimizers`` list is given."""

    compared: bool = True

    supplied: ClassVar[tuple[str, ...]] = ("params",)


@dataclass(frozen=True)
class ScheduleEntry(Entry):
    """A learning-rate schedule: ``factory(optimizer, **hyperparameters)``; None for no schedule.

    ``from_run`` fills factory parameters from the run instead of the config (CosineAnnealingLR's
    T_max is the number of epochs); ``watches`` is the logged value the schedule reacts to
    (a ``val_`` value needs validation data).
    """

    from_run: Mapping[str, str] = field(default_factory=dict)
    watches: str = ""

    supplied: ClassVar[tuple[str, ...]] = ("optimizer",)

    def build(self, optimizer: Any, run: Mapping[str, Any], **values: Any) -> Any:
        """The schedule on ``optimizer`` from config values; ``run`` holds what ``from_run``
        names (``{"epochs": 20}``)."""
        if self.factory is None:
            return None
        filled = {param: run[fact] for param, fact in self.from_run.items()}
        return super().build(optimizer, **values, **filled)

    def _filled(self) -> Iterable[str]:
        return self.from_run


OPTIMIZERS: dict[str, OptimizerEntry] = table(
    OptimizerEntry(
        "sgd",
        SGD,
        cli_defaults={
            "lr": Default(0.1, "PyTorch's 1e-3 barely moves plain SGD in a 20-epoch run"),
        },
    ),
    OptimizerEntry(
        "momentum",
        SGD,
        cli_defaults={
            "lr": Default(0.05, "with μ = 0.9 the effective step is lr / (1 − μ) = 0.5"),
            "momentum": Default(0.9, "what makes this entry SGD with momentum"),
        },
        help="sgd with momentum 0.9",
    ),
    OptimizerEntry(
        "adagrad",
        Adagrad,
        cli_defaults={
            "lr": Default(0.05, "the growing sum G shrinks Adagrad's steps; start them larger"),
        },
    ),
    OptimizerEntry(
        "rmsprop",
        RMSprop,
        cli_defaults={
            "lr": Default(0.002, "PyTorch's 1e-2 gives noisy normalised steps on small networks"),
        },
    ),
    OptimizerEntry(
        "adam",
        Adam,
        cli_defaults={
            "lr": Default(0.003, "3 × PyTorch's 1e-3: with warm-up, done in a 20-epoch run"),
        },
    ),
    OptimizerEntry(
        "adamw",
        AdamW,
        cli_defaults={"lr": Default(0.003, "as adam")},
        compared=False,  # adam with decoupled decay: compared on request
    ),
)

SCHEDULES: dict[str, ScheduleEntry] = table(
    ScheduleEntry("none", None),
    ScheduleEntry("warmup_cosine", S.warmup_cosine),
    ScheduleEntry("warmup_linear", S.warmup_linear),
    ScheduleEntry("warmup_constant", S.warmup_constant),
    ScheduleEntry(
        "step",
        S.StepLR,
        cli_defaults={
            "step_size": Default(10, "StepLR has none; two decays in a 20-epoch run"),
        },
    ),
    ScheduleEntry(
        "exponential",
        S.ExponentialLR,
        cli_defaults={
            "gamma": Default(0.95, "ExponentialLR has none; 0.36 of the lr left after 20 epochs"),
        },
    ),
    ScheduleEntry(
        "cosine",
        S.CosineAnnealingLR,
        rename={"min_lr": "eta_min"},
        from_run={"T_max": "epochs"},
    ),
    ScheduleEntry(
        "plateau",
        S.ReduceLROnPlateau,
        cli_defaults={
            "patience": Default(5, "the library's 10 is half of a 20-epoch run"),
        },
        watches="val_loss",
    ),
)
