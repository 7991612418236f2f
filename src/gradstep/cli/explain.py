"""``gradstep explain [--sizes 2,3,2] [--lr η] [--seed S] [--sample I] [--program]``: one step of
the textbook backpropagation on a tiny sigmoid network, every number shown (forward values, every
δ, every weight change), then the same step by the autodiff engine and the largest difference;
``--program`` also prints that step as gs.capture records it: the array calls of one step."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import ArgParser, fail


def _parser() -> ArgParser:
    p = ArgParser(prog="gradstep explain", description=__doc__.split(":", 1)[1].strip())
    p.add_argument(
        "--dataset",
        default="water-heater",
        help="where the sample comes from (default: water-heater; also xor, ...)",
    )
    p.add_argument(
        "--sizes",
        default=None,
        metavar="2,3,2",
        help="units per layer, inputs first (default: inputs, 3 hidden, outputs)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=0.5,
        metavar="η",
        help="learning rate η in Δw_ji = η·δ_j·x_ji (default 0.5)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    p.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="I",
        help="index of the training sample to learn from (default 0)",
    )
    p.add_argument(
        "--program",
        action="store_true",
        help="also print the step as gs.capture records it (one line per array call)",
    )
    p.add_argument(
        "--init-range",
        type=float,
        default=0.05,
        metavar="R",
        help="initial weights are uniform in [-R, R) (default 0.05)",
    )
    return p


def _sample(name: str, index: int) -> tuple[np.ndarray, np.ndarray, str, list[str], list[str]]:
    """One training sample with inputs and targets scaled into [0, 1] (sigmoid outputs)."""
    from ..data import datasets
    from ..data.datasets.registry import get_spec

    try:
        spec = get_spec(name)
    except ValueError as err:
        fail(f"--dataset: {err}")
    options = {"standardize": False} if "standardize" in spec.options() else {}
    bundle = datasets.load(spec.info.name, seed=0, **options)
    x_all, y_all = bundle.train.arrays[0].astype(np.float64), bundle.train.arrays[1]
    n = len(x_all)
    if not -n <= index < n:
        fail(
            f"--sample {index} is out of range: {bundle.name} has {n} training samples "
            f"(0..{n - 1})."
        )
    lo, hi = x_all.min(axis=0), x_all.max(axis=0)
    x = (x_all[index] - lo) / np.where(hi > lo, hi - lo, 1.0)
    if bundle.task == "classification":
        k = bundle.n_classes
        t = np.full(k, 0.1)
        t[int(y_all[index])] = 0.9
        note = f"class {int(y_all[index])} as targets 0.9 / 0.1 (one unit per class)"
        targets = [f"class {c}" for c in range(k)]
    else:
        y = y_all.astype(np.float64).reshape(n, -1)
        tlo, thi = y.min(axis=0), y.max(axis=0)
        t = (y[index] - tlo) / np.where(thi > tlo, thi - tlo, 1.0)
        raw = ", ".join(f"{v:.4g}" for v in y[index])
        note = f"targets ({raw}) min-max scaled into [0, 1] over the training set"
        targets = list(bundle.target_names)
    features = list(bundle.feature_names)
    return x, t, f"{bundle.name} training sample {index % n}: {note}", features, targets


def run(args: list[str]) -> int:
    opts = _parser().parse_args(args)
    from ..classic import ClassicNetwork

    x, t, about, features, targets = _sample(opts.dataset, opts.sample)
    if opts.sizes is None:
        sizes = [len(x), 3, len(t)]
    else:
        try:
            sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
        except ValueError:
            fail(f"--sizes must be integers separated by commas (e.g. 2,3,2), got {opts.sizes!r}.")
    if len(sizes) < 2 or min(sizes) < 1:
        fail(f"--sizes needs at least two positive unit counts, got {opts.sizes!r}.")
    if sizes[0] != len(x) or sizes[-1] != len(t):
        fail(
            f"--sizes {opts.sizes} does not fit {opts.dataset}: it has {len(x)} inputs and "
            f"{len(t)} targets; pass --sizes {len(x)},3,{len(t)}."
        )
    if not opts.lr > 0:
        fail(f"--lr must be > 0, got {opts.lr}.")
    net = ClassicNetwork(sizes, learning_rate=opts.lr, seed=opts.seed, init_range=opts.init_range)
    before = [w.copy() for w in net.weights]
    trace = net.train_sample(x, t, trace=True)
    engine = _engine_step(before, x, t, opts.lr)
    _show(sizes, opts.lr, about, features, targets, before, trace, net.weights, engine)
    if opts.program:
        print()
        print("5. The same step as gs.capture records it: what the engine's Tensors and graph")
        print("   come down to, one array call per line (forward, the loss, backward, SGD)")
        print(_program(before, x, t, opts.lr))
    return 0


def _program(weights: list[np.ndarray], x: np.ndarray, t: np.ndarray, lr: float) -> str:
    """The engine's step on these weights, recorded by gs.capture, as text."""
    from .. import nn
    from ..capture import capture
    from ..optim import SGD

    model = _engine_model(weights)
    opt = SGD(model.parameters(), lr=lr)
    loss_fn = nn.SSELoss()

    def train_step(x, t):
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        return loss

    step = capture(train_step, x[None, :], t[None, :])
    return step.program()


def _engine_model(weights: list[np.ndarray]) -> Any:
    """Linear + Sigmoid layers holding the textbook's weights (bias in column 0), float64."""
    from .. import nn

    layers = []
    for w in weights:
        lin = nn.Linear(w.shape[1] - 1, w.shape[0]).double()
        lin.weight.data[...] = w[:, 1:]
        lin.bias.data[...] = w[:, 0]
        layers += [lin, nn.Sigmoid()]
    return nn.Sequential(*layers)


def _engine_step(
    weights: list[np.ndarray], x: np.ndarray, t: np.ndarray, lr: float
) -> dict[str, Any]:
    """The same update by the engine: Linear + Sigmoid layers, SSELoss, SGD(lr = η), batch 1."""
    from .. import nn
    from ..optim import SGD
    from ..tensor import tensor

    model = _engine_model(weights)
    opt = SGD(model.parameters(), lr=lr)
    out = model(tensor(x[None, :], dtype=np.float64))
    loss = nn.SSELoss()(out, tensor(t[None, :], dtype=np.float64))
    opt.zero_grad()
    loss.backward()
    grads = [
        np.concatenate([m.bias.grad[:, None], m.weight.grad], axis=1)
        for m in model
        if isinstance(m, nn.Linear)
    ]
    opt.step()
    new = [
        np.concatenate([m.bias.data[:, None], m.weight.data], axis=1)
        for m in model
        if isinstance(m, nn.Linear)
    ]
    return {
        "output": np.asarray(out.data)[0],
        "error": float(loss.data),
        "grads": grads,
        "weights": new,
    }


def _num(v: float) -> str:
    return f"{v:+.6f}" if abs(v) >= 1e-4 or v == 0 else f"{v:+.3e}"


def _show(
    sizes: list[int],
    lr: float,
    about: str,
    features: list[str],
    targets: list[str],
    before: list[np.ndarray],
    trace: Any,
    after: list[np.ndarray],
    engine: dict[str, Any],
) -> None:
    from rich.console import Console
    from rich.table import Table

    from ._common import is_terminal

    con = Console(highlight=False, width=None if is_terminal() else 100)
    n_layers = len(before)
    con.print(
        f"[bold]Backpropagation, one step[/bold] — network {'-'.join(map(str, sizes))} of "
        f"sigmoid units, η = {lr:g}"
    )
    con.print(about)
    con.print("x = (" + ", ".join(f"{n} {v:.4f}" for n, v in zip(features, trace.x)) + ")")
    con.print("t = (" + ", ".join(f"{n} {v:.4f}" for n, v in zip(targets, trace.target)) + ")")
    con.print(
        "Each unit j: net_j = Σ_i w_ji·x_ji (x_j0 = 1, so w_j0 is the bias), "
        "o_j = σ(net_j) = 1/(1 + e^−net_j).\n"
    )

    con.print("[bold]1. Forward[/bold]")
    for l in range(n_layers):
        name = "output layer" if l == n_layers - 1 else f"hidden layer {l + 1}"
        inputs = ", ".join(f"{v:.4f}" for v in trace.inputs[l][1:])
        con.print(f"{name}: inputs x = ({inputs})")
        table = Table()
        table.add_column("unit j")
        table.add_column("net_j", justify="right")
        table.add_column("o_j", justify="right")
        net = before[l] @ trace.inputs[l]
        for j in range(before[l].shape[0]):
            table.add_row(str(j + 1), _num(net[j]), f"{trace.outputs[l][j]:.6f}")
        con.print(table)
    con.print(f"E = ½·Σ_k (t_k − o_k)² = {trace.error:.8f}\n")

    con.print("[bold]2. Backward: the δ terms (δ_j = −∂E/∂net_j)[/bold]")
    out_l = n_layers - 1
    con.print("output units k: δ_k = o_k·(1 − o_k)·(t_k − o_k)")
    table = Table()
    for col in ("unit k", "t_k", "o_k", "δ_k"):
        table.add_column(col, justify="left" if col == "unit k" else "right")
    for k in range(sizes[-1]):
        o = trace.outputs[out_l][k]
        table.add_row(
            str(k + 1), f"{trace.target[k]:.6f}", f"{o:.6f}", _num(trace.deltas[out_l][k])
        )
    con.print(table)
    for l in range(n_layers - 2, -1, -1):
        downstream = before[l + 1][:, 1:].T @ trace.deltas[l + 1]
        con.print(
            f"hidden layer {l + 1}: δ_h = o_h·(1 − o_h)·Σ_k w_kh·δ_k (w_kh before the update)"
        )
        table = Table()
        for col in ("unit h", "o_h", "Σ_k w_kh·δ_k", "δ_h"):
            table.add_column(col, justify="left" if col == "unit h" else "right")
        for h in range(sizes[l + 1]):
            table.add_row(
                str(h + 1),
                f"{trace.outputs[l][h]:.6f}",
                _num(downstream[h]),
                _num(trace.deltas[l][h]),
            )
        con.print(table)

    con.print(
        f"\n[bold]3. Weight changes Δw_ji = η·δ_j·x_ji[/bold] (η = {lr:g}; i = 0 is the bias "
        "weight, on the constant input x_0 = 1)"
    )
    for l in range(n_layers):
        name = "output layer" if l == n_layers - 1 else f"hidden layer {l + 1}"
        con.print(f"{name}:")
        table = Table()
        for col in ("j", "i", "x_ji", "δ_j", "w_ji before", "Δw_ji", "w_ji after"):
            table.add_column(col, justify="left" if col in ("j", "i") else "right")
        for j in range(before[l].shape[0]):
            for i in range(before[l].shape[1]):
                table.add_row(
                    str(j + 1),
                    str(i),
                    f"{trace.inputs[l][i]:.6f}",
                    _num(trace.deltas[l][j]),
                    _num(before[l][j, i]),
                    _num(trace.weight_changes[l][j, i]),
                    _num(after[l][j, i]),
                    end_section=i == before[l].shape[1] - 1,
                )
        con.print(table)

    diffs = {
        "outputs o": max(float(np.max(np.abs(engine["output"] - trace.outputs[-1]))), 0.0),
        "error E": abs(engine["error"] - trace.error),
        "gradients (−∂E/∂w = Δw/η)": max(
            float(np.max(np.abs(-g * lr - dw))) / lr
            for g, dw in zip(engine["grads"], trace.weight_changes)
        ),
        "new weights": max(float(np.max(np.abs(a - b))) for a, b in zip(engine["weights"], after)),
    }
    con.print(
        "\n[bold]4. The same step by the autodiff engine[/bold] (gs.nn.Linear + Sigmoid "
        f"layers with the same weights, SSELoss, SGD lr = η = {lr:g}, a batch of one)"
    )
    table = Table()
    table.add_column("quantity")
    table.add_column("largest |engine − textbook|", justify="right")
    for k, v in diffs.items():
        table.add_row(k, f"{v:.3e}")
    con.print(table)
    worst = max(diffs.values())
    con.print(
        f"largest difference: {worst:.3e} "
        + ("(the same numbers, up to rounding)" if worst < 1e-9 else "(they differ!)")
    )
