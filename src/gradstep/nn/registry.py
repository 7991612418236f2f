"""The loss and layer tables: every loss the Trainer and the command line accept by name, and
every layer a ``[[model.layer]]`` table may name.

Adding a loss is one entry in LOSSES (``cli=True`` also offers it as ``loss.name``); a layer is one
entry in LAYERS: its ``fields`` are the keys its table takes (kind and range here, defaults from
the constructor), and ``in_field`` / ``out_field`` say how the width flows through it (linear takes
the incoming width as ``in`` and sets it to ``out``; batch norm takes ``num_features`` from it).

>>> get_loss("ce")
CrossEntropyLoss()
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..components import REQUIRED, Default, Entry, find, table
from . import activation as A
from . import layers as L
from . import loss as F

__all__ = ["LAYERS", "LOSSES", "LayerEntry", "LayerField", "LossEntry", "get_loss"]


@dataclass(frozen=True)
class LossEntry(Entry):
    """A loss module class. ``cli``: offered as the command line's ``loss.name`` (whose models
    output logits or values, with class indices or values as targets); ``auto_for``: the task
    for which ``loss.name = "auto"`` picks this loss, and why."""

    cli: bool = False
    auto_for: Default | None = None

    @property
    def task(self) -> str:
        """What the loss is for: "classification" or "regression" (the class says)."""
        return str(getattr(self.factory, "task", "regression"))


LOSSES: dict[str, LossEntry] = table(
    LossEntry(
        "cross_entropy",
        F.CrossEntropyLoss,
        aliases=("crossentropy", "ce"),
        cli=True,
        auto_for=Default("classification", "the model outputs logits; the loss applies softmax"),
        cli_defaults={"label_smoothing": Default(0.1, "a mild regulariser")},
    ),
    LossEntry(
        "mse",
        F.MSELoss,
        cli=True,
        auto_for=Default("regression", "the usual regression loss, in the target's units²"),
    ),
    LossEntry("sse", F.SSELoss, cli=True, help="the textbook's E = ½·Σ(t − o)²"),
    LossEntry("l1", F.L1Loss, cli=True),
    LossEntry("nll", F.NLLLoss),
    LossEntry("bce", F.BCELoss),
    LossEntry("bce_with_logits", F.BCEWithLogitsLoss),
    LossEntry("huber", F.HuberLoss),
    LossEntry("smooth_l1", F.SmoothL1Loss),
)


def get_loss(spec: Any) -> Any:
    """A loss module from a name or alias (a new module each call); a module, or any other
    callable, is returned as it is.

    >>> get_loss("mse"), get_loss(nn.L1Loss())
    (MSELoss(), L1Loss())
    """
    if isinstance(spec, str):
        entry = find(LOSSES, spec)
        if entry is None:
            names = [n for e in LOSSES.values() for n in (e.name, *e.aliases)]
            close = difflib.get_close_matches(spec.strip().lower(), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown loss {spec!r}{hint}; use one of {', '.join(LOSSES)} or a loss module "
                "(e.g. gs.nn.MSELoss())."
            )
        return entry.build()
    if not callable(spec):
        raise TypeError(
            f"loss must be a loss module (e.g. gs.nn.CrossEntropyLoss()) or a name such as "
            f"'cross_entropy', got {spec!r}."
        )
    return spec


@dataclass(frozen=True)
class LayerField:
    """One key of a ``[[model.layer]]`` table: its kind ("int", "float" or "bool") and range."""

    kind: str
    low: float | None = None
    high: float | None = None
    high_open: bool = False


_WIDTH = LayerField("int", low=1)
_NON_NEGATIVE = LayerField("float", low=0.0)


@dataclass(frozen=True)
class LayerEntry(Entry):
    """A layer module class (None: not available in this version of gradstep).

    ``fields`` are the keys its table takes (``rename`` maps one to the constructor's name);
    ``in_field`` is filled with the incoming width (checked when given); ``out_field`` sets the
    outgoing width (the last layer that has one may leave it to the data); a layer with neither
    passes the width on. ``activation``: usable as model.activation ("hidden") and as
    model.output_activation ("output").
    """

    fields: Mapping[str, LayerField] = field(default_factory=dict)
    in_field: str | None = None
    out_field: str | None = None
    activation: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (self.in_field, self.out_field):
            if name is not None and name not in self.fields:
                raise ValueError(f"layer {self.name!r}: {name!r} is not one of its fields.")
        known = self.parameters()
        for name in self.fields if self.factory is not None else ():
            if name not in known:
                raise ValueError(
                    f"layer {self.name!r}: field {name!r} is no parameter of "
                    f"{self.factory.__name__}; map it with rename or remove it."
                )

    def field_defaults(self) -> dict[str, Any]:
        """Each field's default from the constructor (None where it has none: required, or
        filled in from the width)."""
        defaults = self.defaults()
        out = {}
        for name in self.fields:
            value = defaults.get(name, REQUIRED)
            out[name] = None if value is REQUIRED else value
        return out


_HIDDEN = ("hidden",)
_ANYWHERE = ("hidden", "output")

LAYERS: dict[str, LayerEntry] = table(
    LayerEntry(
        "linear",
        L.Linear,
        rename={"in": "in_features", "out": "out_features"},
        fields={"out": _WIDTH, "in": _WIDTH, "bias": LayerField("bool")},
        in_field="in",
        out_field="out",
    ),
    LayerEntry("relu", A.ReLU, activation=_HIDDEN),
    LayerEntry("sigmoid", A.Sigmoid, activation=_ANYWHERE),
    LayerEntry("tanh", A.Tanh, activation=_ANYWHERE),
    LayerEntry(
        "leaky_relu", A.LeakyReLU, fields={"negative_slope": _NON_NEGATIVE}, activation=_HIDDEN
    ),
    LayerEntry("gelu", A.GELU, activation=_HIDDEN),
    LayerEntry(
        "dropout", L.Dropout, fields={"p": LayerField("float", low=0.0, high=1.0, high_open=True)}
    ),
    LayerEntry("flatten", L.Flatten),
    LayerEntry(
        "batchnorm",
        None,  # BatchNorm1d(num_features, eps, momentum) once gs.nn has it
        fields={"num_features": _WIDTH, "eps": _NON_NEGATIVE, "momentum": _NON_NEGATIVE},
        in_field="num_features",
        aliases=("batchnorm1d", "batch_norm"),
    ),
)
