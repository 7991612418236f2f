"""DESIGN.md's "Arrows that must never exist", checked on the imports of every gradstep module.

Imports are read with ``ast`` (module-level and function-level, relative and absolute, plus
``importlib.import_module`` / ``__import__`` of a literal name), so nothing is executed. The
engine must not reach numpy or scipy by any route: an import, a name re-exported by another
gradstep module (``from .backend import np``) or an attribute of one (``backend.np``).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gradstep"

# The engine: ops on raw arrays, which get their array module from backend.py.
ENGINE = (
    "gradstep.functional",
    "gradstep.tensor",
    "gradstep.engine",
    "gradstep.tensor_methods",
    "gradstep.autograd",
    "gradstep.creation",
)
ARRAY_LIBRARIES = ("numpy", "scipy")
# Names that give numpy/scipy away when read from another gradstep module, whatever it binds.
ARRAY_LIBRARY_NAMES = {"np": "numpy", "numpy": "numpy", "scipy": "scipy"}

# (importers, imported, rule): an importer in the first group never imports the second.
FORBIDDEN = (
    (
        ENGINE,
        ("gradstep.nn", "gradstep.optim", "gradstep.train", "gradstep.data", "gradstep.cli"),
        "functional/ and tensor.py (the engine) never import nn/, optim/, train/, data/ or cli/",
    ),
    (
        ENGINE,
        ARRAY_LIBRARIES,
        "the engine never names numpy or scipy: use xp = get_array_module(x), "
        "backend.array_module_for(device) and backend.special(xp)",
    ),
    (("gradstep.nn",), ("gradstep.optim", "gradstep.train"), "nn/ never imports optim/ or train/"),
)
# optim/ sees parameters only: of nn/, it may import this module and nothing else.
OPTIM_MAY_SEE = ("gradstep.nn.parameter",)
OPTIM_RULE = "optim/ never imports nn/ layers (it sees parameters only: gradstep.nn.parameter)"
# (imported, the only importers, rule)
ONLY = (
    (("cupy", "cupyx"), ("gradstep.backend",), "only backend.py imports cupy"),
    (("mpi4py",), ("gradstep.distributed",), "only distributed/ imports mpi4py"),
    (("matplotlib",), ("gradstep.viz",), "only viz/ imports matplotlib"),
    (
        ("rich",),
        ("gradstep.cli", "gradstep.train.progress"),
        "only cli/ and train/progress.py import rich",
    ),
)
# The documented cycles: the Tensor's operator methods reach functional/, which builds on
# Tensor, and tensor.py re-exports the engine, which makes Tensors. These edges (importer,
# imported group) are left out of the cycle search.
ALLOWED_CYCLE_EDGES = (
    ("gradstep.tensor", "gradstep.tensor_methods"),
    ("gradstep.tensor", "gradstep.engine"),
    ("gradstep.tensor", "gradstep.functional"),
    ("gradstep.tensor_methods", "gradstep.functional"),
)


@dataclass(frozen=True)
class Module:
    name: str
    is_package: bool
    tree: ast.Module


@dataclass(frozen=True)
class Import:
    """One module reaching another: ``target`` is absolute ("numpy", "gradstep.nn.module")."""

    source: str
    target: str
    line: int
    text: str

    def describe(self) -> str:
        return f"{self.source} (line {self.line}: {self.text})"


def within(name: str, groups: tuple[str, ...]) -> bool:
    """True when ``name`` is one of ``groups`` or inside one of them (a package's modules)."""
    return any(name == g or name.startswith(g + ".") for g in groups)


def parse_module(name: str, source: str, is_package: bool = False) -> Module:
    return Module(name, is_package, ast.parse(source))


def load_package(root: Path = SRC) -> dict[str, Module]:
    """Every module under ``root`` (the gradstep package), by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("gradstep", *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = parse_module(name, path.read_text(encoding="utf-8"), is_package)
    return modules


def _base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    keep = len(parts) - node.level + (1 if module.is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _text(node: ast.AST) -> str:
    return ast.unparse(node).splitlines()[0]


def _top_level_bindings(module: Module) -> dict[str, str]:
    """Names a module binds to other modules at its top level (``import numpy as np`` gives
    ``{"np": "numpy"}``): what another module could read through it."""
    out: dict[str, str] = {}
    stack = list(module.tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(node.body)
    return out


def imports_of(module: Module, modules: dict[str, Module]) -> list[Import]:
    """Everything ``module`` reaches, anywhere in its source: imports, literal dynamic imports,
    and modules read through another gradstep module (``from .backend import np``,
    ``backend.np``)."""
    found: list[Import] = []
    aliases: dict[str, str] = {}  # local name -> gradstep module it names

    def reach_through(owner: str, name: str, node: ast.AST) -> None:
        bound = _top_level_bindings(modules[owner]).get(name) if owner in modules else None
        if bound is None:
            bound = ARRAY_LIBRARY_NAMES.get(name)
        if bound is not None and not within(bound, ("gradstep",)):
            found.append(Import(module.name, bound, node.lineno, _text(node)))

    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append(Import(module.name, a.name, node.lineno, _text(node)))
                if a.name in modules or a.name.split(".")[0] == "gradstep":
                    local = a.asname or a.name.split(".")[0]
                    aliases[local] = a.name if a.asname else local
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node)
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in modules:
                    found.append(Import(module.name, full, node.lineno, _text(node)))
                    aliases[a.asname or a.name] = full
                else:
                    found.append(Import(module.name, base, node.lineno, _text(node)))
                    if base in modules:
                        reach_through(base, a.name, node)
        elif isinstance(node, ast.Call) and node.args:
            f, arg = node.func, node.args[0]
            dynamic = (isinstance(f, ast.Name) and f.id == "__import__") or (
                isinstance(f, ast.Attribute) and f.attr == "import_module"
            )
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if dynamic and literal and not arg.value.startswith("."):
                found.append(Import(module.name, arg.value, node.lineno, _text(node)))
    for node in ast.walk(module.tree):  # attributes, once every alias is known
        if isinstance(node, ast.Attribute):
            owner = _dotted(node.value, aliases)
            if owner in modules:
                reach_through(owner, node.attr, node)
    return found


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The gradstep module an expression like ``backend`` or ``gradstep.backend`` names."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value, aliases)
        return f"{head}.{node.attr}" if head else None
    return None


def arrow_violations(modules: dict[str, Module]) -> list[str]:
    """One line per import that breaks a rule, naming the module, the import and the rule."""
    out = []
    for name, module in modules.items():
        for imp in imports_of(module, modules):
            for importers, imported, rule in FORBIDDEN:
                if within(name, importers) and within(imp.target, imported):
                    out.append(f"{imp.describe()} imports {imp.target}: {rule}")
            if (
                within(name, ("gradstep.optim",))
                and within(imp.target, ("gradstep.nn",))
                and not within(imp.target, OPTIM_MAY_SEE)
            ):
                out.append(f"{imp.describe()} imports {imp.target}: {OPTIM_RULE}")
            for imported, importers, rule in ONLY:
                if within(imp.target, imported) and not within(name, importers):
                    out.append(f"{imp.describe()} imports {imp.target}: {rule}")
    return out


def typing_only_lines(module: Module) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks: imports there never run, so they make no edge
    of the import graph (they still count for the rules on what a module may name)."""
    lines: set[int] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.If) and _text(node.test).endswith("TYPE_CHECKING"):
            for stmt in node.body:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, Import]]:
    """Edges between gradstep modules: importer -> {imported: the first import that does it}.

    Importing ``a.b.c`` also runs the package ``a.b``'s ``__init__``, so that is an edge too
    (except to packages that contain the importer, which are already being imported).
    """
    graph: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for name, module in modules.items():
        typing_only = typing_only_lines(module)
        for imp in imports_of(module, modules):
            if imp.line in typing_only:
                continue
            parts = imp.target.split(".")
            for k in range(len(parts), 0, -1):
                target = ".".join(parts[:k])
                if target not in modules or target == name or within(name, (target,)):
                    continue
                allowed = any(
                    name == src and within(target, (dst,)) for src, dst in ALLOWED_CYCLE_EDGES
                )
                if not allowed:
                    graph[name].setdefault(target, imp)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each with two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, edges = work[-1]
            for w in edges:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def cycle_violations(modules: dict[str, Module]) -> list[str]:
    """One message per import cycle outside the documented exception, with every edge in it."""
    graph = import_graph(modules)
    out = []
    for comp in strongly_connected(graph):
        members = set(comp)
        edges = [
            f"  {imp.describe()} -> {target}"
            for src in comp
            for target, imp in sorted(graph[src].items())
            if target in members
        ]
        out.append(
            f"import cycle among {', '.join(comp)}: no import cycles, except the Tensor's "
            "operator methods reaching functional/; move the shared part into its own module\n"
            + "\n".join(edges)
        )
    return out


# -- the rules on gradstep itself ---------------------------------------------------------------
@functools.cache
def _gradstep() -> dict[str, Module]:
    return load_package()


def test_the_package_is_found():
    modules = _gradstep()
    assert {"gradstep.backend", "gradstep.tensor", "gradstep.functional.loss"} <= set(modules)


def test_engine_never_reaches_numpy_or_scipy():
    modules = _gradstep()
    bad = [v for v in arrow_violations(modules) if "numpy or scipy" in v]
    assert not bad, "\n".join(bad)


def test_no_forbidden_arrows():
    modules = _gradstep()
    bad = [v for v in arrow_violations(modules) if "numpy or scipy" not in v]
    assert not bad, "\n".join(bad)


def test_no_import_cycles_beyond_the_tensor_operator_methods():
    bad = cycle_violations(_gradstep())
    assert not bad, "\n\n".join(bad)


# -- the checker catches what it should (planted violations in synthetic sources) ---------------
def _synthetic(**sources: str) -> dict[str, Module]:
    """Modules from source strings; a name ending in ``__init__`` is a package."""
    out = {}
    for key, src in sources.items():
        is_package = key.endswith("____init__")
        name = key.removesuffix("____init__").replace("__", ".")
        out[name] = parse_module(name, src, is_package)
    return out


_BACKEND = "import numpy as np\nfrom scipy import special as sps\n\ndef get_array_module(*v): ...\n"


def test_checker_catches_numpy_reaching_the_engine_by_every_route():
    modules = _synthetic(
        gradstep____init__="",
        gradstep__backend=_BACKEND,
        gradstep__functional____init__="",
        gradstep__functional__direct="import numpy as np\n",
        gradstep__functional__lazy="def f():\n    from scipy import special\n",
        gradstep__functional__reexport="from ..backend import np\n",
        gradstep__functional__renamed="from ..backend import sps as s\n",
        gradstep__functional__attribute="from .. import backend\ndef f(x):\n    backend.np.f(x)\n",
        gradstep__functional__dotted="import gradstep.backend\nY = gradstep.backend.numpy\n",
        gradstep__functional__dynamic="import importlib\nm = importlib.import_module('numpy')\n",
        gradstep__functional__clean="from ..backend import get_array_module\n",
        gradstep__tensor="def f():\n    import scipy.special\n",
    )
    bad = [v for v in arrow_violations(modules) if "numpy or scipy" in v]
    flagged = {v.split(" ")[0] for v in bad}
    assert flagged == {
        "gradstep.functional.direct",
        "gradstep.functional.lazy",
        "gradstep.functional.reexport",
        "gradstep.functional.renamed",
        "gradstep.functional.attribute",
        "gradstep.functional.dotted",
        "gradstep.functional.dynamic",
        "gradstep.tensor",
    }
    reexport = next(v for v in bad if v.startswith("gradstep.functional.reexport"))
    assert "from ..backend import np" in reexport and "line 1" in reexport
    assert "the engine never names numpy or scipy" in reexport
    renamed = next(v for v in bad if v.startswith("gradstep.functional.renamed"))
    assert "imports scipy.special" in renamed


def test_checker_catches_forbidden_arrows():
    modules = _synthetic(
        gradstep____init__="",
        gradstep__nn____init__="",
        gradstep__nn__parameter="",
        gradstep__nn__layers="from ..optim import sgd\n",
        gradstep__optim____init__="",
        gradstep__optim__sgd="from ..nn.parameter import Parameter\n",
        gradstep__optim__adam="def f():\n    from ..nn import layers\n",
        gradstep__functional____init__="",
        gradstep__functional__ops="from ..train import Trainer\n",
        gradstep__train____init__="",
        gradstep__train__progress="import rich\n",
        gradstep__train__trainer="import rich.progress\nimport matplotlib.pyplot as plt\n",
        gradstep__viz="import matplotlib\n",
        gradstep__io="import cupy\n",
    )
    bad = arrow_violations(modules)
    expected = {
        ("gradstep.nn.layers", "nn/ never imports optim/ or train/"),
        ("gradstep.optim.adam", "optim/ never imports nn/ layers"),
        ("gradstep.functional.ops", "never import nn/, optim/, train/, data/ or cli/"),
        ("gradstep.train.trainer", "only cli/ and train/progress.py import rich"),
        ("gradstep.train.trainer", "only viz/ imports matplotlib"),
        ("gradstep.io", "only backend.py imports cupy"),
    }
    for module, rule in expected:
        assert any(v.startswith(module + " ") and rule in v for v in bad), (module, rule, bad)
    assert len(bad) == len(expected), bad  # optim.sgd, train.progress and viz are allowed


def test_checker_finds_cycles_through_function_level_imports_but_allows_tensor_methods():
    modules = _synthetic(
        gradstep____init__="",
        gradstep__tensor="from . import tensor_methods\ndef f():\n  from .functional import ops\n",
        gradstep__tensor_methods="def install():\n    from .functional import ops\n",
        gradstep__functional____init__="from .ops import add\n",
        gradstep__functional__ops="from ..tensor import Tensor\n",
        gradstep__optim____init__="",
        gradstep__optim__lr_scheduler="from .warmup import warmup_cosine\n",
        gradstep__optim__warmup="def f():\n    from .lr_scheduler import _int\n",
    )
    bad = cycle_violations(modules)
    assert len(bad) == 1, bad
    assert "gradstep.optim.lr_scheduler, gradstep.optim.warmup" in bad[0]
    assert "gradstep.optim.warmup (line 2: from .lr_scheduler import _int)" in bad[0]
    del modules["gradstep.optim.warmup"]
    modules["gradstep.functional.ops"] = parse_module(
        "gradstep.functional.ops", "from ..tensor import Tensor\nfrom .. import creation\n"
    )
    modules["gradstep.creation"] = parse_module(
        "gradstep.creation", "from .functional import ops\n"
    )
    (cycle,) = cycle_violations(modules)  # a cycle outside the exception, even inside the engine
    assert "gradstep.creation, gradstep.functional, gradstep.functional.ops:" in cycle
    assert "gradstep.creation (line 1: from .functional import ops) -> gradstep.functional" in cycle


def test_typing_only_imports_make_no_cycle():
    modules = _synthetic(
        gradstep____init__="",
        gradstep__nn____init__="",
        gradstep__nn__flat=(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .module import Module\n"
        ),
        gradstep__nn__module="def f():\n    from .flat import flatten\n",
    )
    assert cycle_violations(modules) == []
    modules["gradstep.nn.flat"] = parse_module("gradstep.nn.flat", "from .module import Module\n")
    (cycle,) = cycle_violations(modules)
    assert "gradstep.nn.flat, gradstep.nn.module" in cycle
