"""The recorded program: its printout, how guards move to the front, and that a replay
allocates no arrays."""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
from capture_helpers import batches, classic_step, mlp

import gradstep as gs
from gradstep import nn, optim
from gradstep.capture.program import Call, hoist_guards


def test_the_printout_names_inputs_parameters_and_the_optimizer():
    gs.manual_seed(0)
    model = mlp((6, 10, 3), "sigmoid")
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = batches(6, "index")[0]
    step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), x, y)
    text = step.program()
    lines = text.splitlines()
    assert lines[0] == f"captured train_step(x: float32[5, 6], y: int64[5]): {len(lines) - 4} calls"
    assert "matmul(x, model.0.weightᵀ) -> t" in text
    assert "expit(t" in text
    assert "Adam.zero_grad()" in text and "Adam.step()" in text
    assert text.index("check ") < text.index("Adam.zero_grad()")  # the label guard runs first
    assert lines[-1].startswith("returns t")


def _call(kind, reads=(), writes=(), name=""):
    return Call(lambda: None, kind, frozenset(reads), frozenset(writes), name)


def test_a_guard_moves_to_the_front_with_the_calls_it_needs():
    zero = _call("opaque", {"gradrefs"}, {"G", "gradrefs"}, "zero_grad")
    fwd = _call("op", {"x", "W"}, {"h"}, "matmul")
    check_val = _call("op", {"h"}, {"m"}, "max")
    other = _call("op", {"h"}, {"k"}, "exp")
    guard = _call("guard", {"m"}, (), "check")
    back = _call("op", {"h"}, {"G"}, "matmul-back")
    prologue, body, bad = hoist_guards([zero, fwd, other, check_val, guard, back], {"h", "m", "k"})
    assert bad is None
    assert [c.name for c in prologue] == ["matmul", "max", "check"]
    assert [c.name for c in body] == ["zero_grad", "exp", "matmul-back"]


def test_a_guard_that_depends_on_changed_state_cannot_move():
    update = _call("op", {"W"}, {"W"}, "update W")  # writes state, not a buffer of the step
    check_val = _call("op", {"W"}, {"m"}, "max")
    guard = _call("guard", {"m"}, (), "check")
    assert hoist_guards([update, check_val, guard], {"m"})[2] is guard
    # a buffer read by the guard's calls, rewritten by an earlier call left behind
    w1 = _call("op", {"x"}, {"h"}, "write h")
    r1 = _call("op", {"h"}, {"m"}, "read h")
    w2 = _call("op", {"y"}, {"h"}, "rewrite h")
    guard2 = _call("guard", {"m"}, (), "check")
    assert hoist_guards([w1, r1, w2, guard2], {"h", "m"})[2] is None
    assert hoist_guards([w1, w2, r1, guard2], {"h", "m"})[2] is None
    blocked = _call("op", {"h"}, {"q"}, "reads h")
    w3 = _call("op", {"y"}, {"h"}, "rewrites h after the read")
    r3 = _call("op", {"h"}, {"m"}, "max of h")
    assert hoist_guards([blocked, w3, r3, guard2], {"h", "m", "q"})[2] is guard2


def test_replays_allocate_no_arrays():
    """Over 200 replays memory does not grow, and the peak of one replay is a fraction of an
    eager step's (what remains is NumPy's own iterator buffers for broadcasting and casting
    ufuncs, which eager execution pays too, and the returned 0-d loss)."""
    gs.manual_seed(0)
    model = mlp((64, 128, 64, 10), "relu")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    step_fn = classic_step(model, opt, nn.CrossEntropyLoss())
    x, y = batches(64, "index", bs=16, n_out=10)[0]
    step_fn(x, y)
    step = gs.capture(step_fn, x, y)

    def measure(fn, n):
        fn(x, y)
        tracemalloc.start()
        try:
            fn(x, y)
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            for _ in range(n):
                fn(x, y)
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return current - base, peak - base

    growth, peak = measure(step, 200)
    _, eager_peak = measure(step_fn, 3)
    activations = 16 * (128 + 64 + 10) * 4  # one float32 copy of the layer outputs
    assert growth < 2048
    assert peak < eager_peak / 3 and peak < 2 * activations


def test_a_replay_reuses_the_same_buffers():
    gs.manual_seed(0)
    model = mlp((6, 10, 3), "relu")
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(6, "index")[0]
    step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), x, y)
    step(x, y)
    grads = [p.grad for p in model.parameters()]
    step(x, y)
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))
    assert all(isinstance(g, np.ndarray) and type(g) is np.ndarray for g in grads)


def test_partial_and_bound_method_steps_are_found():
    gs.manual_seed(0)

    class Trainer:
        def __init__(self):
            self.model = mlp((6, 10, 3), "relu")
            self.opt = optim.SGD(self.model.parameters(), lr=0.1)

        def step(self, x, y, scale):
            self.opt.zero_grad()
            loss = gs.functional.mse_loss(self.model(x), y) * scale
            loss.backward()
            self.opt.step()
            return loss

    t = Trainer()
    x, y = batches(6, "value")[0]
    step = gs.capture(functools.partial(t.step, scale=2.0), x, y)
    assert step.captured, step.reason


def test_constants_are_folded_only_when_every_read_sees_their_final_value():
    from gradstep.capture.program import drop_constants

    fill = _call("init", (), {"c"}, "fill c")
    fill.droppable = True
    bump = _call("op", {"c"}, {"c"}, "c += 1")
    bump.droppable = True
    use = _call("op", {"c", "x"}, {"t"}, "t = x * c")
    kept, fold = drop_constants([fill, bump, use])
    assert [c.name for c in kept] == ["t = x * c"] and fold == {"c"}
    # read between two writes: the reader needs the first value, so nothing is folded
    kept, fold = drop_constants([fill, use, bump])
    assert [c.name for c in kept] == ["fill c", "t = x * c", "c += 1"] and fold == set()


def test_products_the_engine_keeps_on_one_blas_thread_are_replayed_the_same_way():
    """Linear layers make mid-size products through blas_threads.matmul (one BLAS thread, the
    engine's choice on a busy machine); the replay calls it too, not bare np.matmul."""
    from gradstep import blas_threads

    gs.manual_seed(0)
    model = mlp((256, 256, 3), "relu")  # 16·256·256 multiply-adds: the one-thread range
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(256, "index", bs=16)[0]
    step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), x, y)
    assert step.captured, step.reason
    prog = step._programs[step._example_key]  # white box: the recorded calls themselves
    steered = [c for c in prog.body if getattr(c.fn, "func", None) is blas_threads.matmul]
    assert steered and all(c.name == "matmul" for c in steered)


def test_recordings_of_one_network_share_their_compiled_replay():
    """The replay function is compiled once per source (which names only positions): a second
    recording of the same step reuses the code object, and each still replays its own arrays."""
    data = batches(6, "index")
    progs, results = [], []
    for _ in range(2):
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "relu")
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = gs.capture(classic_step(model, opt, nn.CrossEntropyLoss()), *data[0])
        results.append([step(*b).data.tobytes() for b in data])
        progs.append(step._programs[step._example_key])
    assert progs[0]._calls.__code__ is progs[1]._calls.__code__
    assert progs[0]._calls.__globals__ is not progs[1]._calls.__globals__
    assert results[0] == results[1]
