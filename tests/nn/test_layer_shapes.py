"""The shape rules of the layers table against the layers themselves: for random geometry a
rule gives the shape the built module outputs, and it refuses exactly what the module refuses;
flatten and unflatten by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gradstep as gs
from gradstep.nn import layer_shapes as S
from gradstep.nn.registry import LAYERS


def _module_shape(name: str, shape: tuple[int, ...], values: dict) -> tuple[int, ...] | None:
    """The module's output shape for one batch of 2 samples, or None when it refuses."""
    entry = LAYERS[name]
    try:
        module = entry.build(**values)
        out = module(gs.tensor(np.ones((2, *shape), dtype=np.float64)))
    except ValueError:
        return None
    return tuple(out.shape[1:])


def _rule_shape(name: str, shape: tuple[int, ...], values: dict) -> tuple[int, ...] | None:
    try:
        return LAYERS[name].output_shape(shape, values)
    except ValueError:
        return None


geometry = st.fixed_dictionaries(
    {
        "size": st.integers(1, 12),
        "kernel_size": st.integers(1, 5),
        "stride": st.integers(1, 3),
        "padding": st.integers(0, 3),
        "dilation": st.integers(1, 3),
    }
)


@given(geometry, st.sampled_from([1, 2]))
def test_the_conv_rule_gives_the_modules_output_shape(g, n):
    shape = (2, *[g["size"] + i for i in range(n)])
    values = {k: g[k] for k in ("kernel_size", "stride", "padding", "dilation")}
    values.update(in_channels=2, out_channels=3)
    name = f"conv{n}d"
    assert _rule_shape(name, shape, values) == _module_shape(name, shape, values)


@given(geometry, st.sampled_from([1, 2]), st.booleans())
def test_the_max_pool_rule_gives_the_modules_output_shape(g, n, ceil_mode):
    shape = (2, *[g["size"] + i for i in range(n)])
    values = {k: g[k] for k in ("kernel_size", "stride", "padding", "dilation")}
    values["ceil_mode"] = ceil_mode
    name = f"maxpool{n}d"
    assert _rule_shape(name, shape, values) == _module_shape(name, shape, values)


@given(geometry, st.sampled_from([1, 2]), st.booleans(), st.booleans())
def test_the_avg_pool_rule_gives_the_modules_output_shape(g, n, ceil_mode, default_stride):
    shape = (3, *[g["size"] + 2 * i for i in range(n)])
    values = {"kernel_size": g["kernel_size"], "padding": g["padding"], "ceil_mode": ceil_mode}
    if not default_stride:
        values["stride"] = g["stride"]
    name = f"avgpool{n}d"
    assert _rule_shape(name, shape, values) == _module_shape(name, shape, values)


def test_conv_padding_words_and_per_dim_lists():
    rule = S.conv(2)
    same = {"out_channels": 4, "kernel_size": [3, 5], "padding": "same"}
    assert rule((1, 7, 9), same) == (4, 7, 9)
    valid = {"out_channels": 4, "kernel_size": [3, 5], "padding": "valid", "stride": [1, 2]}
    assert rule((1, 7, 9), valid) == (4, 5, 3)
    with pytest.raises(ValueError, match="its kernel spans 5 positions along W"):
        rule((1, 7, 4), {"out_channels": 4, "kernel_size": [3, 5]})


def test_flatten_and_unflatten_by_hand():
    assert S.flatten((25, 5), {}) == (125,)
    assert S.flatten((2, 3, 4), {"start_dim": 2, "end_dim": -1}) == (2, 12)
    assert S.flatten((2, 3, 4), {"start_dim": 1, "end_dim": 2}) == (6, 4)
    with pytest.raises(ValueError, match="start_dim 0 would merge the batch dim"):
        S.flatten((2, 3), {"start_dim": 0})
    assert S.unflatten((64,), {"dim": 1, "unflattened_size": [1, 8, 8]}) == (1, 8, 8)
    assert S.unflatten((6, 5), {"dim": -2, "unflattened_size": [-1, 2]}) == (3, 2, 5)
    with pytest.raises(ValueError, match=r"unflattened_size \[3, 3\] does not split dim 1 of size"):
        S.unflatten((10,), {"dim": 1, "unflattened_size": [3, 3]})


def test_global_pooling_and_rank_checks():
    entry = LAYERS["adaptive_avgpool"]
    assert entry.output_shape((16, 4, 4), {"output_size": 1}) == (16, 1, 1)
    assert entry.output_shape((16, 9), {"output_size": 1}) == (16, 1)
    with pytest.raises(ValueError, match=r"it takes a \(C, L\) or \(C, H, W\) sample"):
        entry.output_shape((64,), {"output_size": 1})
    with pytest.raises(ValueError, match=r"it takes a \(C, H, W\) sample"):
        LAYERS["conv2d"].output_shape((1, 40), {"out_channels": 2, "kernel_size": 3})
    # a layer without a rule keeps the shape; linear replaces the last dim
    assert LAYERS["relu"].output_shape((3, 4), {}) == (3, 4)
    assert LAYERS["linear"].output_shape((3, 4), {"in": 4, "out": 7}) == (3, 7)
