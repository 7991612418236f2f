"""The loss and layer tables: every loss the Trainer and the command line accept by name, and
every layer a ``[[model.layer]]`` table may name.

Adding a loss is one entry in LOSSES (``cli=True`` also offers it as ``loss.name``); a layer is one
entry in LAYERS: its ``fields`` are the keys its table takes (kind and range here, defaults from
the constructor), ``in_field`` / ``out_field`` say how the width flows through it (linear takes
the incoming width as ``in`` and sets it to ``out``; batch norm takes ``num_features`` from it),
and ``shape`` how it changes a sample's shape (``nn.layer_shapes``: convolution and pooling
sizes, flatten, unflatten), so that channel counts come from the data and shapes are checked.

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
from . import conv as C
from . import layer_shapes as S
from . import layers as L
from . import loss as F
from . import normalization as N
from . import pooling as P

__all__ = [
    "LAYERS",
    "LOSSES",
    "LayerEntry",
    "LayerField",
    "LossEntry",
    "get_loss",
    "sample_layouts",
]


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
        cli_defaults={
            "label_smoothing": Default(
                0.1,
                "a mild regulariser: the default digits run's test accuracy 0.973 with it, "
                "0.957 without (mean of 4 seeds)",
            )
        },
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
    """One key of a ``[[model.layer]]`` table: its kind and range. Kinds: "int", "float",
    "bool"; "size" (an int, or a list of ints, one per spatial dim: kernel_size = [3, 5]);
    "padding" (a size, or "same" / "valid"); "sizes" (a list of ints, one of them may be -1 for
    the rest: unflattened_size). ``low`` / ``high`` bound every number of the value."""

    kind: str
    low: float | None = None
    high: float | None = None
    high_open: bool = False

    def expect(self) -> str:
        """What a value must be, as the end of "... must be <expect>" (size kinds)."""
        low = "" if self.low is None else f" >= {self.low:g}"
        text = {
            "size": f"an integer{low} or a list of them ([3, 3])",
            "padding": f'an integer{low}, a list of them, "same" or "valid"',
            "sizes": f"a list of integers{low} ([1, 8, 8]; one may be -1)",
        }
        return text.get(self.kind, f"a value of kind {self.kind}")

    def convert(self, value: Any) -> Any:
        """A "size", "padding" or "sizes" value as the layer takes it (an int or a list of
        ints, or the padding's word); ValueError when it does not fit."""
        if self.kind == "padding" and isinstance(value, str):
            word = value.strip().lower()
            if word in ("same", "valid"):
                return word
            raise ValueError(self.expect())
        many = isinstance(value, list | tuple)
        items = list(value) if many else [value]
        if self.kind == "sizes" and not many:
            raise ValueError(self.expect())
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            raise ValueError(self.expect())
        free = [v == -1 for v in items] if self.kind == "sizes" else [False] * len(items)
        low = self.low
        if sum(free) > 1 or any(low is not None and v < low and not f for v, f in zip(items, free)):
            raise ValueError(self.expect())
        return items if many else items[0]


_WIDTH = LayerField("int", low=1)
_NON_NEGATIVE = LayerField("float", low=0.0)
_POSITIVE_SIZE = LayerField("size", low=1)
_BOOL = LayerField("bool")


@dataclass(frozen=True)
class LayerEntry(Entry):
    """A layer module class (None: not available in this version of gradstep).

    ``fields`` are the keys its table takes (``rename`` maps one to the constructor's name);
    ``in_field`` is filled with the incoming width (checked when given): dim ``in_dim`` of a
    sample's shape (-1, the last: Linear's features; 0: the channels of a convolution or batch
    norm); ``out_field`` sets the outgoing width (the last layer that has one may leave it to
    the data). ``ranks``: the sample ranks it takes (2 is (C, L), 3 is (C, H, W); () any).
    ``shape`` gives the sample's shape after the layer (see ``nn.layer_shapes``; None: the
    out_field's value replaces dim ``in_dim``, or the shape passes unchanged). ``by_rank``
    names the entry that stands in for this one by the incoming rank (batchnorm is batchnorm1d
    for (C,) and (C, L), batchnorm2d for (C, H, W)). ``activation``: usable as model.activation
    ("hidden") and as model.output_activation ("output").
    """

    fields: Mapping[str, LayerField] = field(default_factory=dict)
    in_field: str | None = None
    out_field: str | None = None
    activation: tuple[str, ...] = ()
    in_dim: int = -1
    ranks: tuple[int, ...] = ()
    shape: S.ShapeRule | None = None
    by_rank: Mapping[int, str] = field(default_factory=dict)

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

    def output_shape(self, shape: tuple[int, ...], values: Mapping[str, Any]) -> tuple[int, ...]:
        """A sample's shape after this layer, from its shape before and the layer's values
        (``in_field`` filled in); ValueError saying what does not fit."""
        if self.ranks and len(shape) not in self.ranks:
            raise ValueError(f"it takes a {sample_layouts(self.ranks)} sample")
        if self.shape is not None:
            return tuple(int(n) for n in self.shape(tuple(shape), values))
        if self.out_field is not None:
            dim = self.in_dim % len(shape)
            return (*shape[:dim], int(values[self.out_field]), *shape[dim + 1 :])
        return tuple(shape)


def sample_layouts(ranks: Any) -> str:
    """The sample layouts of the given ranks as text: (1, 2) -> "(C,) or (C, L)"."""
    names = {1: "(C,)", 2: "(C, L)", 3: "(C, H, W)"}
    return " or ".join(names.get(r, f"rank-{r}") for r in sorted(ranks))


_HIDDEN = ("hidden",)
_ANYWHERE = ("hidden", "output")

_CONV = {
    "in_channels": _WIDTH,
    "out_channels": _WIDTH,
    "kernel_size": _POSITIVE_SIZE,
    "stride": _POSITIVE_SIZE,
    "padding": LayerField("padding", low=0),
    "dilation": _POSITIVE_SIZE,
    "groups": _WIDTH,
    "bias": _BOOL,
}
_MAX_POOL = {
    "kernel_size": _POSITIVE_SIZE,
    "stride": _POSITIVE_SIZE,
    "padding": LayerField("size", low=0),
    "dilation": _POSITIVE_SIZE,
    "ceil_mode": _BOOL,
}
_AVG_POOL = {
    "kernel_size": _POSITIVE_SIZE,
    "stride": _POSITIVE_SIZE,
    "padding": LayerField("size", low=0),
    "ceil_mode": _BOOL,
    "count_include_pad": _BOOL,
}
_BATCH_NORM = {
    "num_features": _WIDTH,
    "eps": LayerField("float", low=0.0),
    "momentum": LayerField("float", low=0.0, high=1.0),
    "affine": _BOOL,
    "track_running_stats": _BOOL,
}
_CHANNELS = 0  # in_dim of layers that take the channel count (dim 0 of a sample)


def _conv(name: str, factory: Any, n: int) -> LayerEntry:
    return LayerEntry(
        name,
        factory,
        fields=_CONV,
        in_field="in_channels",
        out_field="out_channels",
        in_dim=_CHANNELS,
        ranks=(n + 1,),
        shape=S.conv(n),
    )


def _pool(name: str, factory: Any, n: int, fields: Mapping[str, LayerField]) -> LayerEntry:
    return LayerEntry(
        name,
        factory,
        fields=fields,
        ranks=(n + 1,),
        shape=S.pool(n, dilated="dilation" in fields),
        aliases=(name.replace("pool", "_pool"),),
    )


def _adaptive(name: str, factory: Any, n: int) -> LayerEntry:
    return LayerEntry(
        name,
        factory,
        fields={"output_size": _POSITIVE_SIZE},
        ranks=(n + 1,),
        shape=S.adaptive_pool(n),
        aliases=(name.replace("_", ""), name.replace("avgpool", "avg_pool")),
    )


LAYERS: dict[str, LayerEntry] = table(
    LayerEntry(
        "linear",
        L.Linear,
        rename={"in": "in_features", "out": "out_features"},
        fields={"out": _WIDTH, "in": _WIDTH, "bias": _BOOL},
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
    LayerEntry(
        "flatten",
        L.Flatten,
        fields={"start_dim": LayerField("int"), "end_dim": LayerField("int")},
        shape=S.flatten,
    ),
    LayerEntry(
        "unflatten",
        L.Unflatten,
        fields={"dim": LayerField("int"), "unflattened_size": LayerField("sizes", low=1)},
        shape=S.unflatten,
    ),
    _conv("conv1d", C.Conv1d, 1),
    _conv("conv2d", C.Conv2d, 2),
    _pool("maxpool1d", P.MaxPool1d, 1, _MAX_POOL),
    _pool("maxpool2d", P.MaxPool2d, 2, _MAX_POOL),
    _pool("avgpool1d", P.AvgPool1d, 1, _AVG_POOL),
    _pool("avgpool2d", P.AvgPool2d, 2, _AVG_POOL),
    _adaptive("adaptive_avgpool1d", P.AdaptiveAvgPool1d, 1),
    _adaptive("adaptive_avgpool2d", P.AdaptiveAvgPool2d, 2),
    LayerEntry(
        "adaptive_avgpool",
        P.AdaptiveAvgPool1d,  # its fields' defaults; the incoming rank picks the layer
        fields={"output_size": _POSITIVE_SIZE},
        ranks=(2, 3),
        shape=S.adaptive_pool_any,
        by_rank={2: "adaptive_avgpool1d", 3: "adaptive_avgpool2d"},
        aliases=("adaptive_avg_pool", "global_avgpool"),
        help="adaptive_avgpool1d or 2d by the incoming shape; output_size = 1 pools globally",
    ),
    LayerEntry(
        "batchnorm1d",
        N.BatchNorm1d,
        fields=_BATCH_NORM,
        in_field="num_features",
        in_dim=_CHANNELS,
        ranks=(1, 2),
        aliases=("batch_norm1d",),
    ),
    LayerEntry(
        "batchnorm2d",
        N.BatchNorm2d,
        fields=_BATCH_NORM,
        in_field="num_features",
        in_dim=_CHANNELS,
        ranks=(3,),
        aliases=("batch_norm2d",),
    ),
    LayerEntry(
        "batchnorm",
        N.BatchNorm1d,  # its fields' defaults; the incoming rank picks the layer
        fields=_BATCH_NORM,
        in_field="num_features",
        in_dim=_CHANNELS,
        ranks=(1, 2, 3),
        by_rank={1: "batchnorm1d", 2: "batchnorm1d", 3: "batchnorm2d"},
        aliases=("batch_norm",),
        help="batchnorm1d for (C,) and (C, L) samples, batchnorm2d for (C, H, W)",
    ),
)
