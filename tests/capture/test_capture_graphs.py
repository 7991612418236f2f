"""Less common steps replay bit-identically too: gradients accumulated across steps, zero_grad
that fills zeros, tied weights, gathers with integer inputs, and custom modules."""

from __future__ import annotations

import numpy as np
import pytest
from capture_helpers import batches, bits, eager_vs_captured, mlp

import gradstep as gs
from gradstep import nn, optim


def test_gradients_accumulated_across_steps_without_zero_grad():
    def build():
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "tanh")
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
        loss_fn = nn.CrossEntropyLoss()

        def step_fn(x, y):  # no zero_grad: each backward adds to .grad
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    eager_vs_captured(build, batches(6, "index", n=4))


def test_zero_grad_that_fills_zeros_and_two_backwards_per_step():
    def build():
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "relu")
        opt = optim.Adam(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()

        def step_fn(x, y):
            opt.zero_grad(set_to_none=False)
            for half in (slice(0, 2), slice(2, None)):  # two micro-batches, one update
                loss = loss_fn(model(x[half]), y[half])
                loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    eager_vs_captured(build, batches(6, "index", n=3))


class Tied(nn.Module):
    """An embedding whose matrix is also the output layer (tied weights), on integer inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Parameter(gs.randn(7, 4).data)
        self.mix = nn.Linear(4, 4)

    def forward(self, idx):
        h = self.emb[idx].tanh()  # a gather: its backward scatters with np.add.at
        return self.mix(h) @ self.emb.T


def test_tied_weights_and_a_gather_on_integer_inputs():
    def build():
        gs.manual_seed(0)
        model = Tied()
        opt = optim.RMSprop(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()

        def step_fn(idx, y):
            opt.zero_grad()
            loss = loss_fn(model(idx), y)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step_fn

    rng = np.random.default_rng(0)
    data = [(rng.integers(0, 7, 5), rng.integers(0, 7, 5)) for _ in range(3)]
    data[1] = (np.array([1, 1, 1, 2, 2]), data[1][1])  # repeated rows: add.at accumulates
    eager_vs_captured(build, data)


def test_a_functional_model_of_bare_parameters():
    """Parameters held in closure variables, not in a module, are found and replayed."""

    def run(captured):
        gs.manual_seed(0)
        w1 = gs.randn(6, 8, requires_grad=True)
        w2 = gs.randn(8, 2, requires_grad=True)
        opt = optim.SGD([w1, w2], lr=0.1, momentum=0.9)

        def step_fn(x, y):
            opt.zero_grad()
            loss = ((gs.sigmoid(x @ w1) @ w2 - y) ** 2).mean() + 0.01 * (w1 * w1).sum()
            loss.backward()
            opt.step()
            return loss

        data = batches(6, "value", n_out=2)
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        if captured:
            assert step.captured, step.reason
        losses = [bits(step(*b).data) for b in data]
        return losses, [bits(w.data) for w in (w1, w2)], [bits(w.grad) for w in (w1, w2)]

    assert run(True) == run(False)


def test_a_step_that_also_returns_its_accuracy():
    """Comparisons, argmax, integer sums and a max of the logits, returned beside the loss."""

    def run(captured):
        gs.manual_seed(0)
        model = mlp((6, 10, 3), "tanh")
        opt = optim.SGD(model.parameters(), lr=0.5)
        loss_fn = nn.CrossEntropyLoss()

        def step_fn(x, y):
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            correct = (out.argmax(1) == gs.tensor(y)).sum()
            return {"loss": loss, "correct": correct, "top": out.detach().max()}

        data = batches(6, "index", n=4, bs=8)
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        if captured:
            assert step.captured, step.reason
        return [{k: bits(v.data) for k, v in step(*b).items()} for b in data]

    assert run(True) == run(False)


def _clipping_step(use):
    gs.manual_seed(0)
    model = mlp((6, 10, 3), "relu")
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step_fn(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x) * 5.0, y)
        loss.backward()
        norm = gs.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        total = gs.nn.utils.get_total_norm(model.parameters())
        if use == "branch" and norm > 1.0:  # mark: uses the norm
            loss = loss * 1.0
        opt.step()
        return loss, norm, total

    return model, opt, step_fn


def test_gradient_clipping_and_the_norms_it_returns():
    """clip_grad_norm_ is replayed as the call it is (its coefficient comes from each step's
    gradients); the norms the step returns are each replay's own."""
    data = batches(6, "index", n=4)

    def run(captured):
        model, opt, step_fn = _clipping_step("return")
        step = gs.capture(step_fn, *data[0]) if captured else step_fn
        if captured:
            assert step.captured, step.reason
        out = [(bits(loss.data), norm, total) for loss, norm, total in (step(*b) for b in data)]
        return out, [bits(p.data) for p in model.parameters()]

    (eager, params), (replayed, params2) = run(False), run(True)
    assert replayed == eager and params2 == params
    assert len({norm for _, norm, _ in eager}) == 4 and all(t <= 0.5 + 1e-6 for *_, t in eager)
    assert all(type(norm) is float for _, norm, _ in replayed)


def test_computing_with_the_clipped_norm_inside_the_step_falls_back():
    from gradstep.capture import CaptureWarning

    model, opt, step_fn = _clipping_step("branch")
    with pytest.warns(CaptureWarning, match="computes with the number clip_grad_norm_") as rec:
        step = gs.capture(step_fn, *batches(6, "index")[0])
    assert not step.captured
    assert (
        "# mark: uses the norm"
        in open(__file__)
        .read()
        .splitlines()[int(str(rec[0].message).rsplit(":", 1)[1].rstrip(")")) - 1]
    )
