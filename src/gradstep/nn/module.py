"""Module: the base of every layer and model. It keeps parameters, sub-modules and buffers by name.

Names, traversal order, ``state_dict`` keys and the repr follow ``torch.nn.Module``, so a model's
weights move between gradstep and PyTorch under the same names ("0.weight", "1.running_mean").
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from ..tensor import Tensor
from .parameter import Parameter, _is_array


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match, as torch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


class StateDictError(ValueError, RuntimeError):
    """A state dict that does not fit the model (a ValueError; also a RuntimeError, as in torch)."""


_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``.remove()`` takes the hook off again."""

    __slots__ = ("_hooks", "id")

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = next(_hook_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a str, got {type(name).__name__}.")
    if name == "" or "." in name:
        raise KeyError(f"{kind} name {name!r} must be non-empty and contain no '.'.")


def _as_buffer(name: str, value: Any) -> Tensor | None:
    """A buffer value as a Tensor (arrays are wrapped without copying; None stays None)."""
    if value is None or isinstance(value, Tensor):
        return value
    if _is_array(value):
        return Tensor._make(value)
    try:
        return Tensor(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"buffer {name!r} must be a Tensor, an array or None, got {type(value).__name__}."
        ) from None


def _state_value(key: str, value: Any) -> Any:
    """A state-dict value (Tensor, backend array, PyTorch tensor, nested list) as an array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
            value = value.detach().cpu().numpy()
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"state_dict value for {key!r} is a {type(value).__name__}, not a numeric array; "
            "pass arrays or Tensors."
        )
    return arr


class Module:
    """Base class of layers and models, with ``torch.nn.Module``'s API.

    Assigning a :class:`Parameter`, a Module or (for a name given to ``register_buffer``) an array
    as an attribute registers it by name; ``forward`` holds the computation and calling the module
    runs it (with any forward hooks).
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", {})
        set_(self, "_buffers", {})
        set_(self, "_non_persistent_buffers", set())
        set_(self, "_modules", {})
        set_(self, "_forward_pre_hooks", {})
        set_(self, "_forward_hooks", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, ...) in the subclass."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new = hook(self, args, out)
            if new is not None:
                out = new
        return out

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces
        the output. ``handle.remove()`` takes the hook off."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # -- attribute registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    "cannot assign parameters before Module.__init__() has run; call "
                    "super().__init__() first in the subclass's __init__."
                )
            self._forget(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as parameter {name!r}; wrap it in "
                    "nn.Parameter or assign None."
                )
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError(
                    "cannot assign sub-modules before Module.__init__() has run; call "
                    "super().__init__() first in the subclass's __init__."
                )
            self._forget(name)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as child module {name!r}; assign "
                    "a Module or None."
                )
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            buffers[name] = _as_buffer(name, value)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            entries = d.get(store)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d[store]:
                del d[store][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def _forget(self, name: str) -> None:
        """Remove ``name`` from every store (before re-registering it as something else)."""
        d = self.__dict__
        d.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            d[store].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def _check_free(self, kind: str, name: str, store: str) -> None:
        _check_name(kind, name)
        if name not in self.__dict__[store] and (
            name in self.__dict__ or hasattr(type(self), name) or self._owner_of(name) is not None
        ):
            raise KeyError(f"attribute {name!r} already exists; pick another {kind} name.")

    def _owner_of(self, name: str) -> str | None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                return store
        return None

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, e.g. a missing bias) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("call super().__init__() before register_parameter().")
        self._check_free("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register a {type(param).__name__} as parameter {name!r}; wrap it in "
                "nn.Parameter or pass None."
            )
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (the same as assigning the attribute)."""
        if "_modules" not in self.__dict__:
            raise AttributeError("call super().__init__() before add_module().")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module; pass a Module or None.")
        self._check_free("module", name, "_modules")
        self._modules[name] = module

    register_module = add_module

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add state that is not a parameter (e.g. running statistics) under ``name``.

        Arrays are wrapped in a Tensor without copying; persistent buffers go into ``state_dict``.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("call super().__init__() before register_buffer().")
        self._check_free("buffer", name, "_buffers")
        self._buffers[name] = _as_buffer(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as ``"encoder.0"`` (``""`` is the module itself)."""
        mod = self
        for part in target.split(".") if target else ():
            child = mod._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(mod).__name__} has no sub-module {part!r} ({target}).")
            mod = child
        return mod

    # -- traversal ------------------------------------------------------------------------------
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, with dotted names ("" for this one)."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:  # iterative pre-order: torch's order, no recursion
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            children = mod._modules
            if children:
                head = name + "." if name else ""
                stack.extend(
                    (head + key, child)
                    for key, child in reversed(children.items())
                    if child is not None
                )

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        seen: set[int] = set()
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[store].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (mod_prefix + "." + name if mod_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in registration order; shared ones appear once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order."""
        seen: set[int] = set()
        for _, mod in self.named_modules() if recurse else [("", self)]:
            for p in mod._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- training state -------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) here and in all sub-modules."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode must be a bool, got {mode!r}.")
        self.training = mode
        for child in self.children():  # each child's own train(), so subclasses may extend it
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient tracking of every parameter on or off (off freezes them)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Make every ``.grad`` read None (the gradient storage is kept and reused by the next
        backward), or with ``set_to_none=False`` fill the gradients with zeros in place."""
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    p._grad[...] = 0

    # -- state dict -----------------------------------------------------------------------------
    def _state_entries(self, prefix: str = "") -> dict[str, Tensor]:
        """Every parameter and persistent buffer by its state-dict name, in torch's order: each
        module's parameters, then its buffers, then its children (shared ones under every name)."""
        out: dict[str, Tensor] = {}
        for mod_prefix, mod in self.named_modules(prefix=prefix, remove_duplicate=False):
            head = mod_prefix + "." if mod_prefix else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    out[head + name] = p
            skip = mod._non_persistent_buffers
            for name, b in mod._buffers.items():
                if b is not None and name not in skip:
                    out[head + name] = b
        return out

    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by PyTorch name ("0.weight", "1.running_mean").

        The values are copies of the backend arrays, so a saved checkpoint does not change when
        training goes on; ``keep_vars=True`` gives the Parameter and buffer Tensors themselves.
        """
        out = OrderedDict() if destination is None else destination
        prefix = prefix[:-1] if prefix.endswith(".") else prefix
        for key, t in self._state_entries(prefix).items():
            out[key] = t if keep_vars else t.data.copy()
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this model's parameters and buffers, in place.

        Values may be arrays or Tensors (or PyTorch tensors); each is cast to the dtype of the
        entry it fills and copied into the existing array, so views into flat parameter buffers
        stay valid. Shape mismatches always raise; missing or unexpected keys raise unless
        ``strict=False``. Nothing is copied unless every entry fits. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict expects a mapping of names to arrays, got "
                f"{type(state_dict).__name__}; pass model.state_dict() or a loaded checkpoint."
            )
        entries = self._state_entries()
        missing = [k for k in entries if k not in state_dict]
        unexpected = [k for k in state_dict if k not in entries]
        values: list[tuple[Tensor, Any]] = []
        mismatched = []
        for key, t in entries.items():
            if key not in state_dict:
                continue
            arr = _state_value(key, state_dict[key])
            if tuple(arr.shape) != tuple(t.data.shape):
                mismatched.append(
                    f"{key!r} (checkpoint {tuple(arr.shape)}, model {tuple(t.data.shape)})"
                )
            else:
                values.append((t, arr))
        problems = []
        if strict and missing:
            problems.append("missing keys " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys " + ", ".join(repr(k) for k in unexpected))
        if mismatched:
            problems.append("shape mismatch for " + ", ".join(mismatched))
        if problems:
            raise StateDictError(
                f"cannot load the state dict into {type(self).__name__}: "
                + "; ".join(problems)
                + "; check that the checkpoint was saved from the same architecture"
                + (" (strict=False ignores missing and unexpected keys)." if strict else ".")
            )
        for t, arr in values:
            xp = backend.get_array_module(t.data)
            xp.copyto(t.data, xp.asarray(arr), casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # -- dtype and device -----------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers to a dtype and/or move them to a device:
        ``to(gs.float64)``, ``to("cpu")``, ``to(device=None, dtype=None)``, ``to(tensor)``.

        A dtype change rebinds each ``p.data`` to a converted array (gradients are converted too;
        views into flat parameter buffers are dropped: flatten again afterwards). In place;
        returns the module.
        """
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(
                f"to() got unexpected arguments {sorted(kwargs)}; pass device or dtype."
            )
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, backend.Device) or (
                isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "gpu")
            ):
                device = a
            else:
                dtype = a
        if device is not None:
            backend.Device(device)
        d = None
        if dtype is not None:
            d = backend.as_dtype(dtype)
            if d.kind != "f":
                raise TypeError(
                    f"Module.to only accepts floating dtypes, got {d}; pass gs.float32 or "
                    "gs.float64."
                )
        for m in self.modules():
            for t in itertools.chain(m._parameters.values(), m._buffers.values()):
                if t is not None:
                    _convert(t, d, device)
        return self

    def float(self) -> Module:
        """Floating parameters and buffers to float32."""
        return self.to(backend.float32)

    def double(self) -> Module:
        """Floating parameters and buffers to float64."""
        return self.to(backend.float64)

    def cpu(self) -> Module:
        return self.to("cpu")

    def flatten_parameters(self) -> Any:
        """Put all parameters into one flat array and all gradients into another; see
        :func:`gradstep.nn.flat.flatten_parameters`."""
        from .flat import flatten_parameters

        return flatten_parameters(self)

    # -- repr -----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"


def _convert(t: Tensor, dtype: np.dtype | None, device: Any) -> None:
    """Rebind a parameter's or buffer's array to ``dtype``/``device`` (floating arrays only)."""
    arr = t.data
    if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
        g = t._grad
        t._grad = None if g is None else g.astype(dtype)
        t._grad_store = t._grad
    if device is not None:
        arr = backend.to_device(arr, device)
    t.data = arr
