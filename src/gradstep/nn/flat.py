"""Flat parameter buffers: every parameter a view into one array, every gradient into another.

With the parameters and gradients laid out back to back, an optimizer can update the whole model
in one fused pass over two arrays instead of a Python loop over parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import backend
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class FlatBuffers(NamedTuple):
    """The flat parameter array and the flat gradient array, same size and dtype."""

    params: Any
    grads: Any


def _params_of(module_or_params: Any) -> list[Tensor]:
    if hasattr(module_or_params, "parameters") and callable(module_or_params.parameters):
        params = list(module_or_params.parameters())
    else:
        params = list(module_or_params)
    seen: set[int] = set()
    unique = []
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"parameters[{i}] is a {type(p).__name__}, not a Tensor; pass a Module or "
                "model.parameters()."
            )
        if id(p) not in seen:
            seen.add(id(p))
            unique.append(p)
    return unique


def flatten_parameters(module_or_params: Module | Iterable[Tensor]) -> FlatBuffers:
    """Move all parameters into one contiguous 1-D array and give each a gradient view into a
    second one; returns ``(flat_params, flat_grads)``.

    Afterwards each ``p.data`` is a view into ``flat_params`` (values kept) and each parameter's
    gradient storage is a view into ``flat_grads``, which every backward writes into. After a
    backward, ``flat_grads`` therefore holds all gradients, in ``parameters()`` order. A parameter
    that got no gradient in a step still reads ``.grad`` None, but its slice of ``flat_grads``
    keeps the values of an earlier step (zero before the first): a fused update must skip it or
    zero it. All parameters must share one dtype. Rebinding ``p.data`` (``Module.to(dtype)``) ends
    the sharing; in-place changes (optimizer steps, ``load_state_dict``) keep it. Parameters
    that already tile flat buffers in this order keep them: flattening twice changes nothing.
    """
    params = _params_of(module_or_params)
    laid_out = find_flat_buffers(params)
    if laid_out is not None:  # already flat in this order: keep the buffers (and their views)
        return laid_out
    dtypes = sorted({str(p.data.dtype) for p in params})
    if len(dtypes) > 1:
        raise ValueError(
            f"flat buffers need parameters of one dtype, these have {', '.join(dtypes)}; convert "
            "the model with .to(dtype) first."
        )
    dtype = params[0].data.dtype if params else backend.get_default_dtype()
    xp = backend.get_array_module(*[p.data for p in params])
    total = sum(int(p.data.size) for p in params)
    flat = xp.empty((total,), dtype=dtype)
    flat_grad = xp.zeros((total,), dtype=dtype)
    offset = 0
    for p in params:
        n = int(p.data.size)
        shape = p.data.shape
        view = flat[offset : offset + n].reshape(shape)
        view[...] = p.data
        gview = flat_grad[offset : offset + n].reshape(shape)
        if p._grad is not None:
            gview[...] = p._grad
            p._grad = gview
        p.data = view
        p._grad_store = gview
        offset += n
    return FlatBuffers(flat, flat_grad)


def find_flat_buffers(parameters: Iterable[Tensor]) -> FlatBuffers | None:
    """The flat buffers that ``parameters`` tile exactly, in order, or None.

    True only when every parameter is still the view that :func:`flatten_parameters` made (same
    order, nothing rebound), so a fused update of the two arrays is the same as a per-parameter
    update.
    """
    params = _params_of(parameters)
    if not params:
        return None
    flat = params[0].data.base
    store = params[0]._grad_store
    gflat = None if store is None else store.base
    if flat is None or gflat is None or flat.ndim != 1 or gflat.ndim != 1:
        return None
    if flat.size != gflat.size or flat.dtype != gflat.dtype:
        return None
    offset = 0
    item = flat.dtype.itemsize
    p0 = _address(flat)
    g0 = _address(gflat)
    for p in params:
        d, g = p.data, p._grad_store
        if d.base is not flat or g is None or g.base is not gflat:
            return None
        if _address(d) != p0 + offset * item or _address(g) != g0 + offset * item:
            return None
        if not (d.flags.c_contiguous and g.flags.c_contiguous) or g.shape != d.shape:
            return None
        offset += int(d.size)
    if offset != flat.size:
        return None
    return FlatBuffers(flat, gflat)


def _address(arr: Any) -> int:
    """The address of an array's first element (NumPy; CuPy arrays carry it as ``.data.ptr``)."""
    iface = getattr(arr, "__array_interface__", None)
    if iface is not None:
        return iface["data"][0]
    return arr.data.ptr


__all__ = ["FlatBuffers", "find_flat_buffers", "flatten_parameters"]
