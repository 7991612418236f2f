"""Tensor: construction and dtype rules, creation functions, conversions, repr, NumPy interop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep.return_types import MaxMin


@pytest.fixture
def float64_default():
    gs.set_default_dtype(gs.float64)
    try:
        yield
    finally:
        gs.set_default_dtype(gs.float32)


# -- gs.tensor dtype rules -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data,dtype",
    [
        (1.5, gs.float32),
        ([1.0, 2.0], gs.float32),
        (np.array([1.0, 2.0]), gs.float32),  # float64 arrays become float32 (unlike torch)
        (np.float64(2.0), gs.float32),
        (np.array([1.0], dtype=np.float16), gs.float32),
        ([1, 2.5], gs.float32),
        (3, gs.int64),
        ([1, 2], gs.int64),
        (np.array([1, 2]), gs.int64),
        (np.array([1, 2], dtype=np.int32), gs.int32),  # NumPy integer arrays keep their dtype
        ([True, False], gs.bool_),
        ([], gs.float32),
    ],
)
def test_tensor_dtype_rules(data, dtype):
    assert gs.tensor(data).dtype == dtype


def test_tensor_explicit_dtype_wins():
    assert gs.tensor([1.0, 2.0], dtype=gs.float64).dtype == gs.float64
    assert gs.tensor(np.array([1.0, 2.0]), dtype="float64").dtype == gs.float64
    assert gs.tensor([1, 2], dtype=gs.float32).dtype == gs.float32
    assert gs.tensor([1.7], dtype=gs.int64).dtype == gs.int64
    x = np.array([0.1, 0.2])
    np.testing.assert_array_equal(gs.tensor(x, dtype=gs.float64).data, x)


def test_tensor_with_float64_default_keeps_float64(float64_default):
    assert gs.tensor([1.0]).dtype == gs.float64
    assert gs.tensor(np.array([1.0], dtype=np.float32)).dtype == gs.float64
    assert gs.tensor([1]).dtype == gs.int64
    assert gs.zeros(2).dtype == gs.float64


def test_set_default_dtype_rejects_non_floats():
    with pytest.raises(TypeError, match="default dtype"):
        gs.set_default_dtype(gs.int64)
    assert gs.get_default_dtype() == gs.float32


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = gs.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0
    u = gs.tensor(t)
    t.data[1] = 50.0
    assert u.data[1] == 2.0


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*\\.float\\(\\)"):
        gs.tensor([1, 2, 3], requires_grad=True)
    assert gs.tensor([1, 2, 3]).float().requires_grad_().requires_grad


def test_tensor_rejects_ragged_and_non_numeric_data():
    with pytest.raises(ValueError, match="rectangular"):
        gs.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="numbers"):
        gs.tensor(["a", "b"])
    with pytest.raises(TypeError, match="unknown dtype"):
        gs.tensor([1.0], dtype="float99")


def test_tensor_device_argument():
    assert gs.tensor([1.0], device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="only 'cpu'"):
        gs.tensor([1.0], device="cuda")


@pytest.mark.parametrize(
    "make",
    [
        lambda device: gs.zeros(2, device=device),
        lambda device: gs.ones(2, device=device),
        lambda device: gs.empty(2, device=device),
        lambda device: gs.full((2,), 1.5, device=device),
        lambda device: gs.arange(3, device=device),
        lambda device: gs.rand(2, device=device),
        lambda device: gs.randn(2, device=device),
    ],
)
def test_factories_make_arrays_for_the_requested_device(make):
    assert make("cpu").device == "cpu" and make(None).device == "cpu"
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        make("cuda")


# -- attributes ---------------------------------------------------------------------------------
def test_shape_size_dim_numel_len():
    t = gs.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) == tuple(torch.zeros(2, 3, 4).shape)
    assert t.size() == (2, 3, 4) and t.size(1) == 3
    assert t.dim() == t.ndim == 3 and t.numel() == 24 and len(t) == 2
    with pytest.raises(TypeError, match="0-d"):
        len(gs.tensor(1.0))


def test_item_and_conversions_to_python():
    assert gs.tensor([[2.5]]).item() == 2.5
    assert isinstance(gs.tensor(3).item(), int)
    assert float(gs.tensor(1.5)) == 1.5 and int(gs.tensor(7)) == 7
    assert gs.tensor([[1, 2]]).tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="one element.*has 3"):
        gs.tensor([1.0, 2.0, 3.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(gs.tensor([1.0, 2.0]))
    assert bool(gs.tensor([1.0]))
    assert [10, 20, 30][gs.tensor(1)] == 20
    with pytest.raises(TypeError, match="integer tensors"):
        [10, 20][gs.tensor(1.0)]


def test_numpy_returns_an_ndarray_for_every_result():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    results = [x, x * 2.0, (x * 2.0).sum(), x.max(), x[0] + 1.0, x.mean(), x.argmax(0)]
    results += [x[0] < 2.0, x[0] == x[1], (x > 1.0).any(), (x > 1.0).all(0), x.argmax()]
    for t in results:
        assert isinstance(t.numpy(), np.ndarray), type(t.numpy())
        assert isinstance(t.data, np.ndarray)


def test_np_array_of_a_tensor_is_a_copy():
    # np.array copies (np.asarray may share): a snapshot must not change with the tensor.
    t = gs.tensor([1.0, 2.0])
    snapshot = np.array(t)
    snapshot[0] = 5.0
    assert t.data[0] == 1.0
    assert np.asarray(t) is t.data


def test_numpy_interop():
    t = gs.tensor([1.0, 2.0])
    arr = np.asarray(t)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    for out in (np.array([2.0, 3.0]) * t, np.array([1.0, 1.0]) + t, np.ones(2) - t, np.ones(2) / t):
        assert isinstance(out, gs.Tensor)
    np.testing.assert_allclose((np.array([2.0, 3.0]) * t).data, [2.0, 6.0])
    np.testing.assert_allclose((np.ones(2) - t).data, [0.0, -1.0])
    np.testing.assert_allclose((np.ones(2) / t).data, [1.0, 0.5])
    assert (np.ones((2, 2)) @ t).shape == (2,)
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    (np.array([3.0, 4.0]) * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


# -- comparisons ---------------------------------------------------------------------------------
def test_comparisons_return_bool_tensors_like_torch():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    x, y = gs.tensor(a), gs.tensor(b)
    tx, ty = torch.tensor(a), torch.tensor(b)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        out = getattr(x, op)(y)
        assert isinstance(out, gs.Tensor) and out.dtype == gs.bool_
        np.testing.assert_array_equal(out.data, getattr(tx, op)(ty).numpy())
        np.testing.assert_array_equal(getattr(x, op)(2.0).data, getattr(tx, op)(2.0).numpy())
    assert not (x > 1.0).requires_grad
    assert (x > 1.0).any().item() and not (x > 5.0).all().item()


def test_tensors_are_hashable_by_identity():
    a, b = gs.tensor([1.0]), gs.tensor([1.0])
    assert len({a, b}) == 2


# -- repr ------------------------------------------------------------------------------------------
def test_repr_is_sensible():
    assert repr(gs.tensor([1.0, 2.5])) == "tensor([1. , 2.5])"
    assert repr(gs.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=gs.float64" in repr(gs.tensor([1.0], dtype=gs.float64))
    assert repr(gs.tensor([1.0], requires_grad=True)).endswith("requires_grad=True)")
    r = repr(gs.tensor([1.0], requires_grad=True) * 2.0)
    assert "grad_fn=<" in r and "Backward>" in r
    assert repr(gs.tensor(3.0)) == "tensor(3.)"


# -- conversions ---------------------------------------------------------------------------------
def test_to_double_float_long_and_device():
    t = gs.tensor([1.5, 2.5])
    assert t.to(gs.float64).dtype == gs.float64 and t.double().dtype == gs.float64
    assert t.double().float().dtype == gs.float32
    assert t.long().dtype == gs.int64 and t.type("int32").dtype == gs.int32
    assert t.to("cpu") is t and t.to(gs.float32) is t
    assert t.to(gs.float32, copy=True) is not t
    assert t.to("cpu", gs.float64).dtype == gs.float64
    with pytest.raises(ValueError, match="not available"):
        t.to("cuda")


def test_clone_is_a_differentiable_copy():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    c.data[0] = 5.0
    assert x.data[0] == 1.0
    (c * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_in_place_helpers():
    t = gs.ones(3)
    t.zero_()
    np.testing.assert_array_equal(t.data, 0.0)
    t.fill_(2.0)
    t.copy_(gs.tensor([1.0, 2.0, 3.0]) * t)
    np.testing.assert_array_equal(t.data, [2.0, 4.0, 6.0])


# -- reduction results ---------------------------------------------------------------------------
def test_max_with_dim_returns_a_values_indices_namedtuple():
    out = gs.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert isinstance(out, MaxMin) and out._fields == ("values", "indices")
    np.testing.assert_array_equal(out.values.data, [5.0, 7.0])
    np.testing.assert_array_equal(out.indices.data, [1, 0])
    assert isinstance(gs.tensor([1.0, 5.0]).max(), gs.Tensor)


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_and_mean_shapes_equal_torch(dim, keepdim):
    g, t = gs.ones(2, 3), torch.ones(2, 3)
    assert g.sum(dim, keepdim).shape == tuple(t.sum(dim, keepdim).shape)
    assert g.mean(dim, keepdim).shape == tuple(t.mean(dim, keepdim).shape)
    assert g.sum().shape == () == tuple(t.sum().shape)


# -- creation functions --------------------------------------------------------------------------
def test_creation_shapes_and_dtypes_like_torch():
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        for size in ((2, 3), ((2, 3),), ([4],)):
            g, t = getattr(gs, name)(*size), getattr(torch, name)(*size)
            assert g.shape == tuple(t.shape) and str(g.dtype) == str(t.dtype)[6:]
        assert getattr(gs, name)(2, dtype=gs.float64).dtype == gs.float64
    assert gs.zeros(2, requires_grad=True).requires_grad
    assert gs.full((2, 2), 1.5).dtype == gs.float32 and gs.full(3, 7).dtype == gs.int64
    assert gs.full((2,), True).dtype == gs.bool_
    np.testing.assert_array_equal(gs.full((2, 2), 1.5).data, torch.full((2, 2), 1.5).numpy())
    x = gs.tensor([[1, 2]])
    assert (
        gs.zeros_like(x).dtype == gs.int64 and gs.ones_like(x, dtype=gs.float32).dtype == gs.float32
    )
    np.testing.assert_array_equal(gs.linspace(0, 1, 5).data, torch.linspace(0, 1, 5).numpy())


def test_creation_with_float64_default(float64_default):
    assert gs.randn(2).dtype == gs.float64 and gs.arange(0.0, 1.0).dtype == gs.float64


@pytest.mark.parametrize(
    "args",
    [(5,), (2, 7), (0, 10, 3), (0.0, 1.0, 0.1), (1.5,), (0, 5, 0.5), (-1.0, 1.0, 0.3), (5, 0, -1)],
)
def test_arange_values_and_dtypes_like_torch(args):
    g, t = gs.arange(*args), torch.arange(*args)
    assert str(g.dtype) == str(t.dtype)[6:]
    np.testing.assert_array_equal(g.data, t.numpy())


def test_random_creation_repeats_with_the_same_seed():
    gs.manual_seed(7)
    a, b = gs.randn(3, 4), gs.rand(5)
    gs.manual_seed(7)
    np.testing.assert_array_equal(a.data, gs.randn(3, 4).data)
    np.testing.assert_array_equal(b.data, gs.rand(5).data)
    assert not np.array_equal(a.data, gs.randn(3, 4).data)
    r = gs.rand(10_000).data
    assert r.min() >= 0.0 and r.max() < 1.0
    with pytest.raises(ValueError, match="seed"):
        gs.manual_seed(-1)


def test_integer_creation_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        gs.arange(5, requires_grad=True)


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    import numpy as np

    a = np.arange(4.0)
    t = gs.from_numpy(a)
    a[0] = 7.0
    assert t.dtype == gs.float64 and t.numpy()[0] == 7.0
    with pytest.raises(TypeError, match="gs.tensor"):
        gs.from_numpy([1.0, 2.0])
