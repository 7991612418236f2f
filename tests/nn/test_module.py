"""Module API: registration, names and order, traversal, modes, freezing, hooks, state dicts, dtype
conversion, the repr and the containers, checked by hand and against torch.nn."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradstep as gs
from gradstep import nn

F64 = np.float64


# -- models built the same way in both libraries ---------------------------------------------------
def gs_mlp(dtype=None):
    return nn.Sequential(nn.Linear(4, 8, dtype=dtype), nn.ReLU(), nn.Linear(8, 3, dtype=dtype))


def torch_mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8, dtype=torch.float64),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3, dtype=torch.float64),
    )


class Norm(nn.Module):
    """Registers what torch's BatchNorm1d registers, in the same order (no forward needed)."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(np.ones(n))
        self.bias = nn.Parameter(np.zeros(n))
        self.register_buffer("running_mean", np.zeros(n))
        self.register_buffer("running_var", np.ones(n))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        self.register_buffer("scratch", np.zeros(n), persistent=False)

    def forward(self, x):
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 6)
        self.layers = nn.ModuleList([nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 6)])
        self.heads = nn.ModuleDict({"a": nn.Linear(6, 2), "b": nn.Sigmoid()})
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Linear(4, 6)
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(6, 6), torch.nn.Tanh(), torch.nn.Linear(6, 6)]
        )
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(6, 2), "b": torch.nn.Sigmoid()})
        self.scale = torch.nn.Parameter(torch.ones(1))


TorchNet.__name__ = "Net"


# -- registration -------------------------------------------------------------------------------
def test_named_parameters_match_torch_names_and_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [n for n, _ in TorchNet().named_parameters()]
    assert names[:3] == ["scale", "stem.weight", "stem.bias"]
    assert "layers.2.bias" in names and "heads.a.weight" in names


def test_named_modules_children_and_buffers_match_torch():
    g, t = Net(), TorchNet()
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert [type(m).__name__ for m in g.children()] == ["Linear", "ModuleList", "ModuleDict"]
    assert len(list(g.modules())) == len(list(t.modules()))
    norm = Norm(3)
    assert [n for n, _ in norm.named_buffers()] == [
        "running_mean", "running_var", "num_batches_tracked", "scratch"
    ]  # fmt: skip
    assert len(list(norm.buffers())) == 4


def test_parameters_non_recursive_and_prefix():
    net = Net()
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.stem.named_parameters(prefix="m")] == ["m.weight", "m.bias"]


def test_shared_parameter_and_module_appear_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3
    # the state dict keeps every name, as torch does
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_registers_and_rejects_wrong_types():
    m = nn.Module()
    m.w = nn.Parameter(np.zeros(2))
    m.child = nn.ReLU()
    m.plain = gs.zeros(2)  # a plain tensor is just an attribute, as in torch
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert [n for n, _ in m.named_children()] == ["child"]
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = gs.zeros(2)
    m.w = None
    assert m.w is None and list(m.parameters()) == []
    with pytest.raises(TypeError, match="child module 'child'"):
        m.child = 3
    del m.child
    assert list(m.children()) == []
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = m.nope


def test_reassigning_a_name_moves_it_between_stores():
    m = nn.Module()
    m.x = nn.ReLU()
    m.x = nn.Parameter(np.zeros(2))
    assert list(m.children()) == [] and isinstance(m.x, nn.Parameter)
    with pytest.raises(TypeError, match="as parameter 'x'"):  # as torch: None or a Parameter
        m.x = nn.ReLU()


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_register_rejects_bad_names_and_existing_attributes():
    m = nn.Module()
    m.thing = 1
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("thing", np.zeros(1))
    with pytest.raises(KeyError, match="no '.'"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.register_parameter("p", gs.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("c", 5)


def test_buffers_accept_arrays_and_tensors_and_assignment_keeps_them_registered():
    norm = Norm(3)
    assert isinstance(norm.running_mean, gs.Tensor)
    norm.running_mean = np.full(3, 2.0)
    assert isinstance(norm.running_mean, gs.Tensor)
    np.testing.assert_array_equal(norm.state_dict()["running_mean"], [2.0, 2.0, 2.0])


def test_get_submodule_and_dir():
    net = Net()
    assert net.get_submodule("layers.2") is net.layers[2]
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="no sub-module"):
        net.get_submodule("layers.9")
    assert {"stem", "layers", "scale"} <= set(dir(net))


# -- modes, freezing, apply, zero_grad ----------------------------------------------------------
def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net[1].train()
    assert net[1][0].training and not net.training
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")


def test_requires_grad_freezes_parameters():
    gs.manual_seed(0)
    net = gs_mlp(F64)
    net[0].requires_grad_(False)
    out = net(gs.randn(5, 4, dtype=gs.float64))
    (out**2).sum().backward()
    assert net[0].weight.grad is None and net[0].bias.grad is None
    assert net[2].weight.grad is not None
    assert not net[0].weight.requires_grad and net[2].weight.requires_grad


def test_apply_visits_children_first_like_torch():
    seen_gs, seen_torch = [], []
    gs_mlp().apply(lambda m: seen_gs.append(type(m).__name__))
    torch_mlp().apply(lambda m: seen_torch.append(type(m).__name__))
    assert seen_gs == seen_torch == ["Linear", "ReLU", "Linear", "Sequential"]


def test_zero_grad_sets_none_and_backward_reuses_storage():
    gs.manual_seed(1)
    net = gs_mlp(F64)
    x = gs.randn(3, 4, dtype=gs.float64)
    (net(x) ** 2).sum().backward()
    first = net[0].weight.grad
    expected = first.copy()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    (net(x) ** 2).sum().backward()
    assert net[0].weight.grad is first
    np.testing.assert_allclose(first, expected, rtol=0, atol=0)
    net.zero_grad(set_to_none=False)
    assert net[0].weight.grad is first and not first.any()


# -- hooks ----------------------------------------------------------------------------------
def test_forward_hooks_run_replace_and_remove():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda m, args, out: out * 0)
    out = lin(gs.ones(1, 2))
    assert calls == [("pre", (1, 2))] and not out.data.any()
    h1.remove()
    h2.remove()
    assert lin(gs.ones(1, 2)).data.any() and len(calls) == 1
    with lin.register_forward_hook(lambda m, a, o: o + 1) as h:
        assert h.id in lin._forward_hooks
    assert not lin._forward_hooks


# -- state dict ---------------------------------------------------------------------------------
def test_state_dict_keys_match_torch_with_buffers():
    model = nn.Sequential(nn.Linear(3, 4), Norm(4))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    sd = model.state_dict()
    assert list(sd) == list(ref.state_dict())
    assert list(sd) == [
        "0.weight", "0.bias", "1.weight", "1.bias",
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]  # fmt: skip
    assert sd["1.num_batches_tracked"].dtype == np.int64
    assert isinstance(sd, OrderedDict)


def test_state_dict_values_are_copies_and_keep_vars_gives_tensors():
    model = gs_mlp()
    sd = model.state_dict()
    before = sd["0.weight"].copy()
    model[0].weight.data += 1
    np.testing.assert_array_equal(sd["0.weight"], before)
    kept = model.state_dict(keep_vars=True)
    assert kept["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="model.")) == [
        "model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"
    ]  # fmt: skip


def test_load_state_dict_copies_in_place_and_casts():
    src, dst = gs_mlp(F64), gs_mlp()  # float64 checkpoint into a float32 model
    arrays_before = [p.data for p in dst.parameters()]
    sd = src.state_dict()
    sd["0.bias"] = gs.tensor(sd["0.bias"], dtype=gs.float64)  # Tensors are accepted too
    result = dst.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for p, arr in zip(dst.parameters(), arrays_before):
        assert p.data is arr and p.dtype == np.float32
    for (k, v), p in zip(src.state_dict().items(), dst.parameters()):
        np.testing.assert_allclose(p.data, v.astype(np.float32), rtol=0, atol=0, err_msg=k)


def test_load_state_dict_names_every_bad_key():
    model = nn.Sequential(nn.Linear(3, 4), Norm(4))
    sd = model.state_dict()
    del sd["0.bias"]
    sd["extra.weight"] = np.zeros(2)
    sd["0.weight"] = np.zeros((5, 3))
    before = model[1].weight.data.copy()
    sd["1.weight"] = np.full(4, 7.0)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(sd)
    msg = str(info.value)
    assert "missing keys '0.bias'" in msg
    assert "unexpected keys 'extra.weight'" in msg
    assert "'0.weight' (checkpoint (5, 3), model (4, 3))" in msg
    assert isinstance(info.value, RuntimeError)  # catchable as torch's error type too
    # nothing was loaded: the good entry was not copied either
    np.testing.assert_array_equal(model[1].weight.data, before)


def test_load_state_dict_non_strict_reports_keys_but_shape_mismatch_still_raises():
    model = gs_mlp()
    sd = model.state_dict()
    del sd["2.bias"]
    sd["junk"] = np.zeros(1)
    sd["0.bias"] = np.full(8, 3.0)
    result = model.load_state_dict(sd, strict=False)
    assert result == (["2.bias"], ["junk"])
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(model[0].bias.data, np.full(8, 3.0))
    sd["0.bias"] = np.zeros(9)
    with pytest.raises(ValueError, match=r"'0.bias' \(checkpoint \(9,\), model \(8,\)\)"):
        model.load_state_dict(sd, strict=False)


def test_load_state_dict_rejects_non_numeric_values_and_non_mappings():
    model = gs_mlp()
    sd = model.state_dict()
    sd["0.bias"] = "abc"
    with pytest.raises(TypeError, match="'0.bias'"):
        model.load_state_dict(sd)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([1, 2])


def test_state_dict_round_trip_through_torch_gives_identical_outputs():
    gs.manual_seed(3)
    model = gs_mlp(F64)
    ref = torch_mlp()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 4))
    out_gs = model(gs.tensor(x, dtype=gs.float64)).data
    out_torch = ref(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out_gs, out_torch, rtol=1e-13, atol=1e-15)  # BLAS sum order only
    # and back: new torch weights into the gradstep model (torch tensors accepted directly)
    torch.manual_seed(0)
    for m in ref:
        if isinstance(m, torch.nn.Linear):
            m.reset_parameters()
    model.load_state_dict(ref.state_dict())
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[k], v.numpy())
    out_gs = model(gs.tensor(x, dtype=gs.float64)).data
    out_torch = ref(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out_gs, out_torch, rtol=1e-13, atol=1e-15)


# -- dtype conversion ---------------------------------------------------------------------------
def test_to_double_and_float_convert_floating_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), Norm(4).float())
    assert model[1].weight.dtype == np.float32
    x = gs.randn(2, 3)
    (model(x) ** 2).sum().backward()
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[0].weight.grad.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    model.to(dtype=gs.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to(gs.float64)
    model.to("cpu")
    model.to(gs.zeros(1, dtype=gs.float32))
    assert model[0].weight.dtype == np.float32
    # the next backward after zero_grad reuses storage of the new dtype
    model.zero_grad()
    (model(x) ** 2).sum().backward()
    assert model[0].weight.grad.dtype == np.float32


def test_to_rejects_integer_dtypes_and_unknown_devices():
    model = gs_mlp()
    with pytest.raises(TypeError, match="floating"):
        model.to(gs.int64)
    with pytest.raises(ValueError, match="not available"):
        model.to("cuda")
    with pytest.raises(TypeError, match="unexpected"):
        model.to(memory_format=1)


# -- repr -------------------------------------------------------------------------------------
def test_repr_matches_torch():
    assert repr(gs_mlp()) == repr(torch_mlp())
    assert repr(Net()) == repr(TorchNet())
    layers = [
        (nn.Linear(2, 3, bias=False), torch.nn.Linear(2, 3, bias=False)),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.LogSoftmax(), torch.nn.LogSoftmax()),
        (nn.Softplus(), torch.nn.Softplus()),
        (nn.Dropout(0.25), torch.nn.Dropout(0.25)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
        (nn.Identity(), torch.nn.Identity()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.ModuleList(), torch.nn.ModuleList()),
        (nn.Sequential(), torch.nn.Sequential()),
        (
            nn.ModuleList([nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
            torch.nn.ModuleList(
                [torch.nn.ReLU(), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()]
            ),
        ),
    ]
    for g, t in layers:
        assert repr(g) == repr(t)


def test_parameter_repr_and_construction():
    p = nn.Parameter(np.zeros(2))
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert isinstance(p, gs.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64  # a floating array is taken as it is
    assert nn.Parameter(np.arange(3)).dtype == gs.get_default_dtype()
    assert nn.Parameter([1.0, 2.0]).dtype == gs.get_default_dtype()
    t = gs.zeros(3, dtype=gs.float64)
    q = nn.Parameter(t, requires_grad=False)
    assert q.data is t.data and not q.requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(gs.tensor([1, 2]))


def test_deepcopy_gives_an_independent_model():
    model = gs_mlp()
    clone = copy.deepcopy(model)
    assert isinstance(clone[0].weight, nn.Parameter)
    clone[0].weight.data += 1
    assert not np.array_equal(clone[0].weight.data, model[0].weight.data)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


# -- containers -----------------------------------------------------------------------------
def test_sequential_indexing_len_iter_and_slices():
    model = gs_mlp()
    assert len(model) == 3
    assert model[-1] is model[2]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and [n for n, _ in head.named_children()] == ["1", "2"]
    assert head[1] is model[2]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    with pytest.raises(TypeError, match="integers or slices"):
        model["0"]


def test_sequential_edits_renumber_like_torch():
    g = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    t = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Sigmoid())
    del g[0]
    del t[0]
    g.append(nn.ReLU())
    t.append(torch.nn.ReLU())
    g.insert(1, nn.Identity())
    t.insert(1, torch.nn.Identity())
    g[0] = nn.GELU()
    t[0] = torch.nn.GELU()
    assert repr(g) == repr(t)
    with pytest.raises(TypeError, match="Modules only"):
        g.append(lambda x: x)


def test_sequential_from_ordered_dict_keeps_names_and_chains():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3, dtype=F64)), ("act", nn.Tanh())]))
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    x = gs.ones(1, 2, dtype=gs.float64)
    np.testing.assert_allclose(model(x).data, np.tanh(model.fc(x).data), rtol=1e-15)


def test_module_list_operations():
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(0, nn.Identity())
    ml += [nn.GELU()]
    assert [type(m).__name__ for m in ml] == [
        "Identity", "Linear", "ReLU", "Tanh", "Sigmoid", "GELU"
    ]  # fmt: skip
    assert len(ml) == 6 and isinstance(ml[-1], nn.GELU)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert [n for n, _ in ml.named_children()][:2] == ["0", "1"]
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias"]
    ml[1] = nn.Softplus()
    assert isinstance(ml[1], nn.Softplus)
    with pytest.raises(NotImplementedError, match="forward"):
        ml(gs.ones(1))


def test_module_dict_operations():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    md["act"] = nn.ReLU()
    md.update([("dec", nn.Linear(3, 2))])
    assert list(md) == ["enc", "act", "dec"] and "act" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == [
        "enc.weight", "enc.bias", "dec.weight", "dec.bias"
    ]  # fmt: skip
    assert list(md.keys()) == ["enc", "act", "dec"]
    assert isinstance(md.pop("act"), nn.ReLU) and "act" not in md
    assert [k for k, _ in md.items()] == ["enc", "dec"] and len(list(md.values())) == 2
    with pytest.raises(KeyError, match="no module 'zzz'"):
        md["zzz"]
    del md["dec"]
    md.clear()
    assert len(md) == 0
