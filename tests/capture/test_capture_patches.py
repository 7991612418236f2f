"""Where gs.capture swaps in its recording twins: every name in gradstep's modules bound to the
engine's array-module lookup or BLAS steering, under any name, in modules loaded before or
after an earlier capture."""

from __future__ import annotations

import sys
import types

import numpy as np
from capture_helpers import batches, bits, classic_step

import gradstep as gs
from gradstep import backend, nn, optim
from gradstep.autograd import Function
from gradstep.tensor import apply


def _module_with_an_alias(monkeypatch) -> types.ModuleType:
    """A gradstep module, loaded now, whose op reaches the array module through another name."""
    mod = types.ModuleType("gradstep._alias_for_test")
    mod.xp_of = backend.get_array_module

    class Square(Function):
        def forward(self, a):
            self.a = a
            # a copy through the module's name for the array module: only the recording twin
            # (not NumPy itself) makes it a recorded call
            c = mod.xp_of(a).ascontiguousarray(a.T)
            return (c * c).T

        def backward(self, g):
            return (mod.xp_of(g).multiply(g, 2 * self.a),)

    mod.Square = Square
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return mod


def _run(capture: bool, mod, data):
    gs.manual_seed(0)
    lin = nn.Linear(6, 3)
    opt = optim.SGD(lin.parameters(), lr=0.1)

    def loss_fn(out, y):
        return apply(mod.Square(), out - y).mean()

    step = classic_step(lin, opt, loss_fn)
    run = gs.capture(step, *data[0]) if capture else step
    losses = [bits(run(*b).data) for b in data]
    return run, losses, bits(lin.weight.data)


def test_an_alias_in_a_module_loaded_after_a_first_capture_is_recorded(monkeypatch):
    data = batches(6, "value", n=3)
    _run(True, types.SimpleNamespace(Square=_plain_square()), data)  # a capture before it loads
    mod = _module_with_an_alias(monkeypatch)
    run, losses, weight = _run(True, mod, data)
    assert run.captured, run.reason
    assert "ascontiguousarray" in run.program()
    assert (losses, weight) == _run(False, mod, data)[1:]
    assert mod.xp_of is backend.get_array_module  # put back after the capture


def _plain_square():
    class Square(Function):
        def forward(self, a):
            self.a = a
            return backend.get_array_module(a).multiply(a, a)

        def backward(self, g):
            return (np.multiply(g, 2 * self.a),)

    return Square
