"""The engine: :func:`apply` runs a Function node's forward and records it when a gradient is
needed; :func:`run_backward` walks the recorded nodes in reverse, each after all of its
consumers, and leaves accumulate their gradients (reusing kept storage, see :func:`grad_buffer`).
"""

from __future__ import annotations

from typing import Any

from . import backend
from .autograd import Function, grad_mode
from .tensor import Tensor, _new_tensor

__all__ = ["apply", "grad_buffer", "run_backward", "unbroadcast"]


def run_backward(root: Tensor, gradient: Any) -> None:
    """Reverse-mode sweep from ``root``: every node after all of its consumers; leaves accumulate.

    A chain (each node with at most one non-leaf input that needs a gradient, as in an MLP) is
    walked directly: there a tensor's gradient is complete when the walk reaches it, so no sort
    and no table of pending gradients is needed. At the first node with two or more such inputs
    the rest of the graph is swept in topological order (:func:`_sweep`).
    """
    t, g = root, gradient
    while True:
        node = t._ctx
        if node is None:  # a leaf root
            _accumulate_leaf(t, g)
            return
        if t._retain:
            _accumulate_leaf(t, g)
        nxt = nxt_g = pending = None
        for p, pg, need in zip(node.parents, node.backward(g), node.needs):
            if pg is None or not need:
                continue
            d = p.data
            if pg.shape != d.shape or pg.dtype is not d.dtype:
                pg = _conform(pg, d)
            if p._ctx is None:
                _accumulate_leaf(p, pg)
            elif nxt is None:
                nxt, nxt_g = p, pg
            elif pending is None and p is nxt:
                nxt_g = nxt_g + pg
            else:
                if pending is None:
                    pending = {id(nxt): nxt_g}
                    roots = [nxt]
                key = id(p)
                prev = pending.get(key)
                if prev is None:
                    pending[key] = pg
                    roots.append(p)
                else:
                    pending[key] = prev + pg
        if pending is not None:
            _sweep(roots, pending)
            return
        if nxt is None:
            return
        t, g = nxt, nxt_g


def _conform(pg: Any, pdata: Any) -> Any:
    """An input's gradient in the input's shape (summed over broadcast axes) and dtype."""
    if pg.shape != pdata.shape:
        pg = unbroadcast(pg, pdata.shape)
    if pg.dtype is not pdata.dtype and pg.dtype != pdata.dtype:
        pg = pg.astype(pdata.dtype)
    return pg


def _sweep(roots: list[Tensor], grads: dict[int, Any]) -> None:
    """Backward through the graph above ``roots`` (non-leaf tensors whose gradients are in
    ``grads``, keyed by id), each node once, after every node that consumes its output."""
    for t in _topological_order(roots):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._retain:
            _accumulate_leaf(t, g)
        node = t._ctx
        for p, pg, need in zip(node.parents, node.backward(g), node.needs):
            if pg is None or not need:
                continue
            pg = _conform(pg, p.data)
            if p._ctx is None:
                _accumulate_leaf(p, pg)
            else:
                key = id(p)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg


def _topological_order(roots: list[Tensor]) -> list[Tensor]:
    """Non-leaf tensors that need a gradient, reachable from ``roots``: each before its inputs.

    Iterative depth-first search (deep graphs are fine): a tensor is appended once all of its
    inputs are finished, and the reversed list is the order backward needs.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    for r in roots:
        if id(r) in seen:
            continue
        seen.add(id(r))
        stack = [(r, iter(r._ctx.parents))]
        while stack:
            t, inputs = stack[-1]
            for p in inputs:
                if p._ctx is not None and p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p._ctx.parents)))
                    break
            else:
                stack.pop()
                order.append(t)
    order.reverse()
    return order


def _accumulate_leaf(p: Tensor, g: Any) -> None:
    """Add ``g`` into ``p.grad``, reusing the gradient storage kept from earlier steps.

    ``g`` may already be that storage (an op wrote into it, see :func:`grad_buffer`): then it is
    only exposed as ``.grad``, with no copy.
    """
    cur = p._grad
    if cur is None:
        store = p._grad_store
        if g is store:
            p._grad = store
            return
        if store is not None and store.shape == g.shape and store.dtype == p.data.dtype:
            store[...] = g  # the array's own copy: faster than xp.copyto (g has store's dtype)
        else:
            xp = backend.get_array_module(g)
            store = xp.array(g, dtype=p.data.dtype, copy=True)  # g may be a 0-d scalar
            p._grad_store = store
        p._grad = store
    else:
        cur += g


def grad_buffer(node: Function, i: int) -> Any:
    """An array ``node.backward`` may write the whole gradient of its input ``i`` into, or None.

    That is the storage a leaf keeps from earlier steps while its ``.grad`` reads None (after
    ``zero_grad()``), unless the leaf is also another input of the same node (whose gradient
    would then be copied over it). An op that writes there with ``out=`` and returns the array
    spares an allocation and a copy of a whole gradient: the engine just exposes it as ``.grad``.
    """
    parents = node.parents
    t = parents[i]
    if t._grad is not None or t._ctx is not None:
        return None
    store = t._grad_store
    if store is None:
        return None
    d = t.data
    if store.shape != d.shape or (store.dtype is not d.dtype and store.dtype != d.dtype):
        return None
    seen = 0
    for p in parents:  # t as another input too: that input's gradient would be copied over it
        if p is t:
            seen += 1
    return store if seen == 1 else None


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def apply(node: Function, *tensors: Tensor) -> Tensor:
    """Run ``node.forward`` on the tensors' arrays; record the node when a gradient is needed.

    Recording sets ``node.needs`` (each input's ``requires_grad``) and ``node.parents`` before
    ``forward`` runs; otherwise ``node.needs`` is None. One to three inputs, the common cases,
    are spelled out so that no temporary lists are built.
    """
    ctx = None
    n = len(tensors)
    if n == 1:
        a = tensors[0]
        if a.requires_grad and grad_mode.enabled:
            node.needs = (a.requires_grad,)
            node.parents = tensors
            ctx = node
        else:
            node.needs = None
        out = node.forward(a.data)
    elif n == 2:
        a, b = tensors
        ra, rb = a.requires_grad, b.requires_grad
        if (ra or rb) and grad_mode.enabled:
            node.needs = (ra, rb)
            node.parents = tensors
            ctx = node
        else:
            node.needs = None
        out = node.forward(a.data, b.data)
    elif n == 3:
        a, b, c = tensors
        ra, rb, rc = a.requires_grad, b.requires_grad, c.requires_grad
        if (ra or rb or rc) and grad_mode.enabled:
            node.needs = (ra, rb, rc)
            node.parents = tensors
            ctx = node
        else:
            node.needs = None
        out = node.forward(a.data, b.data, c.data)
    else:
        needs = tuple([t.requires_grad for t in tensors])
        if True in needs and grad_mode.enabled:
            node.needs = needs
            node.parents = tensors
            ctx = node
        else:
            node.needs = None
        out = node.forward(*[t.data for t in tensors])
    if type(out) not in backend.array_types:  # NumPy reductions give scalars; a tensor holds arrays
        out = backend.get_array_module(out).asarray(out)
    # Tensor._make written out: a call less on every op. (gs.capture swaps _make to re-trace
    # plain arrays; an op's output is traced already, through array_types above.)
    t = _new_tensor(Tensor)
    t.data = out
    t._grad = None
    t._grad_store = None
    t._retain = False
    t._ctx = ctx
    t.requires_grad = ctx is not None
    return t
