"""The engine: backward order and accumulation, gradient storage, grad mode, and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import close as _close
from oracle import f64 as _f64

import gradstep as gs
from gradstep.autograd import Function, GradcheckError
from gradstep.tensor import apply


# -- accumulation and the order of the backward sweep -------------------------------------------
def test_gradients_accumulate_across_two_backward_calls():
    x = _f64([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 2.0, 3.0 + 4.0])


@pytest.mark.parametrize("first", ["branch", "node"])
def test_diamond_graph_gets_the_summed_gradient(first):
    # b feeds both the output and a, which also feeds the output: b's gradient must include a's
    # contribution before b's own backward runs, whichever operand comes first.
    x, tx = _f64(1.5), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    for v in (x, tx):
        b = v * 2.0
        a = b * 3.0
        out = (a + b) if first == "branch" else (b + a)
        out.backward()
    assert x.grad == tx.grad.item() == 8.0


def test_tensor_used_twice_through_different_paths_matches_torch():
    def f(v, lib):
        h = lib.tanh(v * 0.7)
        return (h * lib.sigmoid(h) + h.exp()).sum()

    x = _f64([0.3, -1.2, 2.0])
    tx = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    f(x, gs).backward()
    f(tx, torch).backward()
    _close(x.grad, tx.grad)


GRAPHS = {
    "non-leaf times itself": lambda m, x: (lambda h: h * h)(x * 2.0),
    "non-leaf plus itself": lambda m, x: (lambda h: h + h - h / 3.0)(x.exp()),
    "non-leaf over itself": lambda m, x: (lambda h: h / (h + 1.0))(x * x),
    "non-leaf matmul itself": lambda m, x: (lambda h: h @ h)(x.reshape(2, 2) * 2.0),
    "cat of a non-leaf twice": lambda m, x: (lambda h: m.cat([h, h * 2.0, h]))(x.tanh()),
    "stack of a non-leaf twice": lambda m, x: (lambda h: m.stack([h, h]))(x.sigmoid()),
    "maximum of a non-leaf with itself": lambda m, x: (lambda h: m.maximum(h, h))(x * 3.0),
    "where with a non-leaf on both sides": lambda m, x: (lambda h: m.where(x > 0, h, h * h))(x + 1),
    "index a non-leaf twice": lambda m, x: (lambda h: h[[0, 0, 1]] * h[1:])(x * 2.0),
    "three users joined at the end": lambda m, x: (
        lambda h: (h * 2.0).sum() + h.tanh().sum() + (h @ h)
    )(x - 0.5),
    "long branch and short branch": lambda m, x: (
        lambda h: (((h * 1.5).tanh() * 2.0).exp() + 1.0).log() + h
    )(x.sigmoid()),
    "user of a user": lambda m, x: (lambda h: (lambda k: k * h + k)(h * h))(x * 0.5),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_shapes_match_torch(name):
    a = np.array([0.3, -1.2, 0.7, 2.0])
    x = _f64(a)
    tx = torch.tensor(a, requires_grad=True)
    out, ref = GRAPHS[name](gs.functional, x), GRAPHS[name](torch, tx)
    _close(out.data, ref)
    w = np.random.default_rng(2).standard_normal(tuple(ref.shape))
    out.backward(w)
    ref.backward(torch.tensor(w))
    _close(x.grad, tx.grad)


def test_retain_grad_in_a_chain_and_on_the_root():
    x, tx = _f64([1.0, -2.0]), torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    outs = []
    for v, m in ((x, gs), (tx, torch)):
        h1 = v * 3.0
        h2 = m.tanh(h1)
        y = (h2 * h2).sum()
        for t in (h1, h2, y):
            t.retain_grad()
        y.backward()
        outs.append((h1.grad, h2.grad, y.grad))
    for g, t in zip(*outs):
        _close(g, t)
    _close(x.grad, tx.grad)


def test_a_long_chain_backward_has_no_recursion_limit():
    x = _f64(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**5000, rtol=1e-9)


def test_a_deep_chain_of_layers_with_shared_input():
    x = _f64([0.5, -0.5])
    y = x
    for _ in range(1000):
        y = y * 0.5 + x * 0.5  # every layer reuses x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0], rtol=1e-12)


# -- broadcasting: each input's gradient has the input's shape ---------------------------------
@pytest.mark.parametrize(
    "sa,sb",
    [((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((), (2, 2)), ((1, 3), (2, 1)), ((4,), (2, 1, 4))],
)
def test_broadcast_gradients_are_reduced_to_each_input_shape(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x, y = _f64(a), _f64(b)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (x * y + x).sum().backward()
    (tx * ty + tx).sum().backward()
    assert x.grad.shape == sa and y.grad.shape == sb
    _close(x.grad, tx.grad)
    _close(y.grad, ty.grad)


# -- gradient storage is kept and reused --------------------------------------------------------
def test_zeroed_grad_reads_none_and_backward_reuses_the_same_storage():
    p = gs.tensor([1.0, 2.0], requires_grad=True)
    (p * 2.0).sum().backward()
    first = p.grad
    assert first is p._grad_store
    p.grad = None  # what optimizer.zero_grad() does
    assert p.grad is None
    (p * 5.0).sum().backward()
    assert p.grad is first and p._grad_store is first
    np.testing.assert_array_equal(p.grad, [5.0, 5.0])


def test_assigning_a_grad_of_the_wrong_shape_is_a_clear_error():
    p = gs.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="assigned grad has shape"):
        p.grad = np.zeros(3)


# -- grad mode ----------------------------------------------------------------------------------
def test_no_grad_records_no_graph():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    with gs.no_grad():
        y = x * 2.0 + 1.0
        assert not gs.is_grad_enabled()
    assert gs.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_enable_grad_inside_no_grad():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    with gs.no_grad():
        with gs.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_and_enable_grad_as_decorators():
    x = gs.tensor([1.0], requires_grad=True)

    @gs.no_grad()
    def off(t):
        return t * 2.0

    @gs.enable_grad()
    def on(t):
        return t * 2.0

    assert not off(x).requires_grad
    with gs.no_grad():
        assert on(x).requires_grad  # enable_grad as a decorator turns recording on
    assert gs.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with gs.no_grad():
            raise KeyError("boom")
    assert gs.is_grad_enabled()


def test_set_grad_enabled():
    try:
        gs.set_grad_enabled(False)
        assert not (gs.tensor([1.0], requires_grad=True) * 2.0).requires_grad
    finally:
        gs.set_grad_enabled(True)


# -- detach, leaves, retain_grad ---------------------------------------------------------------
def test_detach_cuts_the_graph_and_shares_data():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = x * d  # d is a constant here
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    e = x.detach()
    e.data[0] = 10.0
    assert x.data[0] == 10.0


def test_non_leaf_gradients_are_kept_only_with_retain_grad():
    x = _f64([1.0, 2.0])
    h = x * 3.0
    k = h * h
    h.retain_grad()
    assert not h.is_leaf and x.is_leaf
    k.sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    assert k.grad is None
    np.testing.assert_array_equal(x.grad, 18 * x.data)


def test_retain_grad_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="requires grad"):
        gs.ones(2).retain_grad()


def test_requires_grad_rules():
    with pytest.raises(TypeError, match="floating-point"):
        gs.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        gs.tensor([True]).requires_grad_()
    y = gs.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)


def test_constant_inputs_get_no_gradient():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    c = gs.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


# -- backward's argument checks ------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_gradient_is_a_clear_error():
    y = gs.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="single-element output"):
        y.backward()


def test_backward_on_a_tensor_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gs.tensor(1.0).backward()


def test_backward_with_a_gradient_of_the_wrong_shape_is_a_clear_error():
    y = gs.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(ValueError, match="backward\\(gradient\\) has shape"):
        y.backward(np.ones(3))


def test_backward_with_a_gradient_matches_torch():
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = np.array([[0.1, 0.2], [-0.3, 0.4]])
    x, tx = _f64(a), torch.tensor(a, requires_grad=True)
    (x * x).backward(gs.tensor(g, dtype=gs.float64))
    (tx * tx).backward(torch.tensor(g))
    _close(x.grad, tx.grad)


def test_backward_on_a_leaf_sets_its_own_gradient():
    x = gs.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


# -- dtype conversions keep the graph -------------------------------------------------------------
@pytest.mark.parametrize(
    "convert", [lambda t: t.to(gs.float64), lambda t: t.double(), lambda t: t.to("float64")]
)
def test_conversion_keeps_the_graph_and_the_gradient_comes_back_in_the_original_dtype(convert):
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = convert(x)
    assert y.dtype == gs.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    z = _f64([1.0, 3.0])
    z.float().sum().backward()
    assert z.grad.dtype == np.float64


def test_mixed_precision_operands_send_gradients_in_each_dtype():
    a = gs.tensor([1.0, 2.0], requires_grad=True)
    b = gs.tensor([3.0, 4.0], dtype=gs.float64, requires_grad=True)
    y = a * b
    assert y.dtype == gs.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


# -- gradcheck itself --------------------------------------------------------------------------
class _WrongSquare(Function):
    """x² with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        return (g * 3.0 * self.a,)


class _WrongSecondInput(Function):
    """a·b whose backward for b is wrong in one element."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        gb = g * self.a
        gb = gb.copy()
        gb.reshape(-1)[-1] += 1.0
        return g * self.b, gb


def test_gradcheck_passes_on_correct_functions():
    rng = np.random.default_rng(1)
    x, y = _f64(rng.standard_normal((2, 3))), _f64(rng.standard_normal(3))
    assert gs.gradcheck(lambda a, b: (a * b).tanh() @ b, [x, y])
    assert gs.gradcheck(lambda a: a.sum(), [x])


def test_gradcheck_raises_naming_the_input_and_index_of_a_wrong_backward():
    x = _f64([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradcheckError, match=r"input 0 at index \(\d, \d\)"):
        gs.gradcheck(lambda a: apply(_WrongSquare(), a), [x])
    a, b = _f64([1.0, 2.0, 3.0]), _f64([4.0, 5.0, 6.0])
    with pytest.raises(GradcheckError, match=r"input 1 at index \(2,\)"):
        gs.gradcheck(lambda u, v: apply(_WrongSecondInput(), u, v), [a, b])
    assert (
        gs.gradcheck(lambda u, v: apply(_WrongSecondInput(), u, v), [a, b], raise_exception=False)
        is False
    )


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_needs_float64_inputs():
    with pytest.raises(TypeError, match="float64"):
        gs.gradcheck(lambda a: a * 2.0, [gs.tensor([1.0], requires_grad=True)])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gs.gradcheck(lambda a: a * 2.0, [_f64([1.0], requires_grad=False)])


def test_gradcheck_ignores_constant_inputs():
    c = _f64([2.0, 3.0], requires_grad=False)
    assert gs.gradcheck(lambda a, k: a * k, [_f64([1.0, 1.0]), c])


def test_gradcheck_works_on_non_contiguous_inputs():
    # A Fortran-ordered (or transposed) array: perturbing a flat copy would perturb nothing.
    a = np.asfortranarray(np.arange(1.0, 7.0).reshape(2, 3))
    x = _f64(a)
    assert gs.gradcheck(lambda t: t * t, [x])
    np.testing.assert_array_equal(x.data, a)  # the input is restored afterwards


def test_gradcheck_passes_other_inputs_through_and_needs_a_tensor_output():
    x = _f64([1.0, -2.0])
    w = np.array([3.0, 4.0])  # a plain array argument: used by fn, never perturbed
    assert gs.gradcheck(lambda a, k, s: a * gs.tensor(k, dtype=gs.float64) * s, [x, w, 2.0])
    np.testing.assert_array_equal(w, [3.0, 4.0])
    with pytest.raises(TypeError, match="must return a Tensor"):
        gs.gradcheck(lambda a: a.data * 2.0, [x])
    with pytest.raises(TypeError, match="must return a Tensor"):
        gs.gradcheck(lambda a: 1.0, [x])


def test_gradcheck_of_a_0d_input_and_output():
    x = _f64(1.5)
    assert gs.gradcheck(lambda a: (a * a).exp(), [x])
    with pytest.raises(GradcheckError, match=r"input 0 at index \(\)"):
        gs.gradcheck(lambda a: apply(_WrongSquare(), a), [x])


# -- the array-module seam -----------------------------------------------------------------------
def test_a_training_step_asks_the_backend_for_its_array_module_at_most_once_per_op_call(
    monkeypatch,
):
    # The ops compute through the seam (xp = get_array_module(...)), and asking stays cheap: no
    # more than once per forward or backward call. Counted, not timed.
    import sys

    from gradstep import backend
    from gradstep import functional as F

    real, calls = backend.get_array_module, []

    def counting(*values):
        calls.append(sys._getframe(1).f_code.co_name)
        return real(*values)

    for name, module in list(sys.modules.items()):
        if name.startswith("gradstep") and getattr(module, "get_array_module", None) is real:
            monkeypatch.setattr(module, "get_array_module", counting)
    rng = np.random.default_rng(0)
    w1, w2 = (gs.tensor(rng.standard_normal(s), requires_grad=True) for s in ((32, 64), (10, 32)))
    b1, b2 = gs.zeros(32, requires_grad=True), gs.zeros(10, requires_grad=True)
    x, t = gs.tensor(rng.standard_normal((1, 64))), gs.tensor(rng.uniform(0, 1, (1, 10)))
    for _ in range(2):  # the second step writes into the kept gradient storage
        calls.clear()
        for p in (w1, b1, w2, b2):
            p.grad = None
        out = F.sigmoid(F.linear(F.sigmoid(F.linear(x, w1, b1)), w2, b2))
        F.sse_loss(out, t).backward()
    nodes = 5  # linear, sigmoid, linear, sigmoid, sse_loss
    assert {"forward", "backward"} <= set(calls)  # the ops' own calls, not only the engine's
    assert len(calls) <= 2 * nodes + 1, calls  # forward and backward of each, and the seed
