"""gs.summary: rows, output shapes, parameter counts (by hand) and memory, with no side effects."""

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn
from gradstep.nn import summary


def _row(text, name):
    """The table row whose first cell is ``name``, split into cells."""
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in\n{text}")


def test_rows_and_counts_by_hand():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    text = summary(model, (4,))
    assert isinstance(text, str)
    assert _row(text, "0") == ["0", "Linear", "(1,", "8)", "40"]  # 4*8 + 8
    assert _row(text, "1") == ["1", "ReLU", "(1,", "8)", "0"]
    assert _row(text, "2") == ["2", "Linear", "(1,", "3)", "27"]  # 8*3 + 3
    assert "Total params: 67" in text
    assert "Trainable params: 67" in text
    assert "Non-trainable params: 0" in text
    assert "Params size: 268 B" in text  # 67 float32 values
    assert "Input size: 16 B" in text
    assert "Forward activations (batch of 1): 76 B" in text  # (8 + 8 + 3) * 4 bytes


def test_frozen_layers_float64_and_thousands_separators():
    model = nn.Sequential(nn.Linear(100, 50, dtype=gs.float64), nn.Linear(50, 10, dtype=gs.float64))
    model[0].requires_grad_(False)
    text = summary(model, (100,))
    assert "Total params: 5,560" in text  # 5050 + 510
    assert "Trainable params: 510" in text
    assert "Non-trainable params: 5,050" in text
    assert "Params size: 43.44 KiB" in text  # 5560 * 8 / 1024
    assert _row(text, "0")[-1] == "5,050"


def test_nested_names_image_input_and_buffers():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
            self.register_buffer("stat", np.zeros(10, dtype=np.float32))

        def forward(self, x):
            return self.body(x)

    text = summary(Block(), (1, 4, 4))
    assert _row(text, "body.0")[:4] == ["body.0", "Flatten", "(1,", "16)"]
    assert _row(text, "body.1")[-1] == "85"
    assert "Buffers size: 40 B" in text
    assert "input (1, 4, 4) per sample" in text and "Input size: 64 B" in text


def test_a_leaf_model_and_unused_layers_are_listed():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(3, 4)

        def forward(self, x):
            return self.a(x)

    text = summary(TwoHeads(), (3,))
    assert _row(text, "b")[2:4] == ["(not", "called)"]
    assert "Total params: 24" in text
    assert _row(summary(nn.Linear(3, 2), 3), "(model)")[-1] == "8"


def test_summary_leaves_modes_rng_and_hooks_alone():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    model[2].eval()
    gs.manual_seed(0)
    state = gs.random.get_rng_state()
    summary(model, (4,))
    assert gs.random.get_rng_state() == state  # dropout did not draw
    assert [m.training for m in model.modules()] == [True, True, True, False]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_hooks_are_removed_when_the_forward_fails():
    model = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="features"):
        summary(model, (5,))
    assert not model[0]._forward_hooks and model.training


def test_bad_arguments():
    with pytest.raises(ValueError, match="non-negative ints"):
        summary(nn.Linear(2, 2), (2.5,))
    with pytest.raises(TypeError, match="input_shape"):
        summary(nn.Linear(2, 2), "2")
    with pytest.raises(TypeError, match="Module"):
        summary(lambda x: x, (2,))


def test_depth_folds_containers_and_input_size_is_an_alias():
    inner = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
    model = nn.Sequential(inner, nn.Linear(8, 2))
    text = gs.summary(model, input_size=(4,), depth=1)
    rows = [ln.split() for ln in text.splitlines() if ln[:1].isdigit()]
    # by hand: the inner block has 4·8 + 8 + 8·8 + 8 = 112 parameters, the head 8·2 + 2 = 18
    assert rows == [["0", "Sequential", "(1,", "8)", "112"], ["1", "Linear", "(1,", "2)", "18"]]
    assert "Total params: 130" in text
    full = gs.summary(model, (4,))
    assert [ln.split()[0] for ln in full.splitlines() if ln[:1].isdigit()] == [
        "0.0",
        "0.1",
        "0.2",
        "1",
    ]
    with pytest.raises(TypeError, match="not both"):
        gs.summary(model, (4,), input_size=(4,))
    with pytest.raises(ValueError, match="depth must be"):
        gs.summary(model, (4,), depth=0)
