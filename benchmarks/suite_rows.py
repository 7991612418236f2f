"""The suite's rows: which worker jobs each row needs, and how their results become one table line.

A :class:`Row` lists its needs (a job, the systems to run it in, and whether another process keeps
a core busy meanwhile) and a ``summarise`` function from the collected results to a :class:`Line`:
the figure per system, the row's main ratio (per-round values, so the median and the range are
taken over rounds), the peers' ratios and the target. Rows share jobs: W3's memory line reads the
same workers as W3, and BUSY compares against the idle W1/W2 workers of the same run.

Results are ``{(job, system, busy): [one dict per round]}`` as the workers print them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from common import _fmt_us
from suite_nets import OPT_NAMES, STEPS, StepSpec

Results = dict[tuple[str, str, bool], list[dict]]
MLP_SYSTEMS = ("gradstep", "gradstep-capture", "torch", "jax")
COLUMNS = ("gradstep", "gradstep-capture", "torch", "jax")
FULL_RECIPE = 6000  # Greydanus's recipes; shorter runs (--quick) are not judged on accuracy
ACCURACY_GAP = 0.02  # "the same accuracy": mean test accuracies within 2 points


@dataclass(frozen=True)
class Need:
    job: str
    systems: tuple[str, ...]
    busy: bool = False


@dataclass
class Ratio:
    """A row's main figure, one value per round; ``limit`` is the target on the median."""

    label: str
    values: list[float]
    better: str = "lower"  # or "higher"
    limit: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def met(self) -> bool | None:
        if self.limit is None or not self.values:
            return None
        return self.median <= self.limit if self.better == "lower" else self.median >= self.limit

    def text(self) -> str:
        if not self.values:
            return "—"
        lo, hi = min(self.values), max(self.values)
        return f"**{self.median:.2f}** ({lo:.2f}–{hi:.2f})"


@dataclass
class Line:
    key: str
    workload: str
    cells: dict[str, str]
    ratio: Ratio
    target: str
    peers: dict[str, str] = field(default_factory=dict)
    other: str = ""
    notes: list[str] = field(default_factory=list)
    extra_ok: bool = True  # a second condition of the target (the same accuracy)


@dataclass(frozen=True)
class Row:
    key: str
    needs: tuple[Need, ...]
    summarise: Callable[[Results], list[Line]]


# -- helpers ------------------------------------------------------------------------------------
def runs(results: Results, job: str, system: str, busy: bool = False) -> list[dict]:
    return results.get((job, system, busy), [])


def per_round(a: list[dict], b: list[dict], key: str) -> list[float]:
    """a[key] / b[key] within each round both ran in (a floor of 1 keeps a ratio of MiB finite)."""
    return [
        max(x[key], 1.0) / max(y[key], 1.0) if key == "rss_mib" else x[key] / y[key]
        for x, y in zip(a, b)
    ]


def median_of(rs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rs)


def ratio(results: Results, job: str, a: str, b: str, key: str, limit: float) -> Ratio:
    """System a over system b on ``key``, per round, with the target ``limit``."""
    values = per_round(runs(results, job, a), runs(results, job, b), key)
    return Ratio(f"{a}/{b}", values, limit=limit)


def peers(results: Results, job: str, key: str) -> dict[str, str]:
    """The captured step's and JAX's median ratio to PyTorch (the capture issue's bar)."""
    out = {}
    for system in ("gradstep-capture", "jax"):
        values = per_round(runs(results, job, system), runs(results, job, "torch"), key)
        out[system] = f"{statistics.median(values):.2f}" if values else "—"
    return out


def cells(results: Results, job: str, key: str, show: Callable[[float], str]) -> dict[str, str]:
    """Each system's median of ``key`` over rounds, as ``show`` writes it."""
    return {s: show(median_of(rs, key)) for s in MLP_SYSTEMS if (rs := runs(results, job, s))}


def micros(us: float) -> str:
    return f"{_fmt_us(us)} µs"


def millis(us: float) -> str:
    return f"{us / 1e3:,.1f} ms"


def gemm_flops(spec: StepSpec) -> float:
    """The matrix products of one step: forward, weight gradients, and input gradients of every
    layer but the first (the data needs none)."""
    shapes = [shape for _, shape in spec.net.weights]  # (out, in)
    fwd = sum(2 * spec.batch * o * i for o, i in shapes)
    return 2 * fwd + sum(2 * spec.batch * o * i for o, i in shapes[1:])


# -- the rows -----------------------------------------------------------------------------------
def _step_line(results: Results, key: str, limit: float) -> Line:
    what = STEPS[key].describe + ": one full step"
    r = ratio(results, key, "gradstep", "torch", "median_us", limit)
    return Line(
        key,
        what,
        cells(results, key, "median_us", micros),
        r,
        f"≤ {limit}",
        peers(results, key, "median_us"),
    )


def _memory_line(results: Results, key: str, job: str, what: str) -> Line:
    what = f"peak RSS above the post-import baseline, {what}"
    r = ratio(results, job, "gradstep", "torch", "rss_mib", 1.0)
    return Line(
        key,
        what,
        cells(results, job, "rss_mib", lambda m: f"+{m:,.0f} MiB"),
        r,
        "≤ 1.0",
        peers(results, job, "rss_mib"),
    )


def _w1(results: Results) -> list[Line]:
    return [_step_line(results, "W1", 0.25)]


def _w2(results: Results) -> list[Line]:
    lines = [_step_line(results, "W2", 0.25)]
    loop, sk = (
        runs(results, "digits-epoch", "gradstep-loop"),
        runs(results, "digits-epoch", "sklearn"),
    )
    if loop and sk:
        what = (
            "one epoch on digits (1257 samples), 64-128-64-10 ReLU, Adam, batch 16: "
            "gradstep's hand-written loop (flat parameters) against scikit-learn's partial_fit"
        )
        r = Ratio("gradstep/sklearn", per_round(loop, sk, "median_us"), limit=1.0)
        other = f"sklearn {millis(median_of(sk, 'median_us'))}"
        cell = {"gradstep": millis(median_of(loop, "median_us"))}
        lines.append(Line("W2·sk", what, cell, r, "< 1.0", other=other))
    return lines


def _w3(results: Results) -> list[Line]:
    return [
        _step_line(results, "W3", 0.8),
        _memory_line(results, "W3·mem", "W3", "W3's worker (build, guard, timing)"),
    ]


def _w4(results: Results) -> list[Line]:
    step, sgemm = runs(results, "W4", "gradstep"), runs(results, "W4", "numpy")
    flops = gemm_flops(STEPS["W4"])
    rates = [flops / a["median_us"] / 1e3 / b["gflops"] for a, b in zip(step, sgemm)]
    r = Ratio("GEMM rate/sgemm", rates, better="higher", limit=0.90)
    cell = {}
    if step:
        t = median_of(step, "median_us")
        cell["gradstep"] = f"{t / 1e3:,.0f} ms · {flops / t / 1e3:,.0f} GFLOP/s"
    other = f"sgemm 2048² {median_of(sgemm, 'gflops'):,.0f} GFLOP/s" if sgemm else ""
    what = STEPS["W4"].describe + f": the step's GEMM rate ({flops / 1e9:.1f} GFLOP a step)"
    return [Line("W4", what, cell, r, "≥ 0.90", other=other)]


def _recipe_line(results: Results, key: str, limit: float, what: str) -> Line:
    shown, acc = {}, {}
    for s in MLP_SYSTEMS:
        if rs := runs(results, key, s):
            acc[s] = statistics.mean(r["accuracy"] for r in rs)
            shown[s] = f"{median_of(rs, 'seconds'):,.1f} s · {100 * acc[s]:.1f} %"
    r = ratio(results, key, "gradstep", "torch", "seconds", limit)
    line = Line(key, what, shown, r, f"≤ {limit}, same accuracy", peers(results, key, "seconds"))
    steps = min((run["steps"] for s in acc for run in runs(results, key, s)), default=0)
    if steps < FULL_RECIPE:
        line.notes.append(
            f"{key}: {steps} steps, not the recipe's {FULL_RECIPE}: the accuracy is not judged."
        )
    elif "gradstep" in acc and "torch" in acc:
        line.extra_ok = abs(acc["gradstep"] - acc["torch"]) <= ACCURACY_GAP
        if not line.extra_ok:
            line.notes.append(
                f"{key}: gradstep's mean accuracy is more than "
                f"{100 * ACCURACY_GAP:.0f} points from PyTorch's."
            )
    return line


def _w5(results: Results) -> list[Line]:
    what = (
        "MNIST-1D MLP recipe: 40-100-100-10 ReLU, Adam 1e-2, batch 100: time to train, "
        "test accuracy"
    )
    return [_recipe_line(results, "W5", 0.33, what)]


def _w6(results: Results) -> list[Line]:
    what = (
        "MNIST-1D CNN recipe (bench_conv's network), Adam 1e-2, batch 100: time to train, "
        "test accuracy"
    )
    return [
        _recipe_line(results, "W6", 0.8, what),
        _memory_line(results, "W6·mem", "W6", "the whole recipe"),
    ]


def _w7(results: Results) -> list[Line]:
    fit, loop = (
        runs(results, "digits-epoch", "gradstep-fit"),
        runs(results, "digits-epoch", "gradstep-loop"),
    )
    r = Ratio("fit/loop", per_round(fit, loop, "median_us"), limit=1.05)
    cell = {"gradstep": millis(median_of(fit, "median_us"))} if fit else {}
    other = f"hand loop {millis(median_of(loop, 'median_us'))}" if loop else ""
    what = (
        "`Trainer.fit` epoch on digits over the same epoch as a hand-written loop (same model, "
        "data, Adam, flat parameters)"
    )
    return [Line("W7", what, cell, r, "< 1.05", other=other)]


def _opt(results: Results) -> list[Line]:
    lines = []
    for name in OPT_NAMES:
        job = f"OPT-{name}"
        what = f"{name}.step() on 1,043,826 parameters (6 arrays), torch single-tensor"
        r = ratio(results, job, "gradstep", "torch", "median_us", 1.0)
        lines.append(
            Line(f"OPT {name}", what, cells(results, job, "median_us", micros), r, "≤ 1.0")
        )
    return lines


def _busy(results: Results) -> list[Line]:
    lines = []
    for key in ("W1", "W2"):
        shown, slow = {}, {}
        for s in ("gradstep", "torch"):
            idle, busy = runs(results, key, s), runs(results, key, s, busy=True)
            slow[s] = per_round(busy, idle, "median_us")
            if slow[s]:
                shown[s] = (
                    f"{micros(median_of(busy, 'median_us'))} (×{statistics.median(slow[s]):.2f})"
                )
        what = f"{key} while another process keeps one core busy: slowdown against idle"
        r = Ratio("gradstep busy/idle", slow["gradstep"], limit=2.0)
        lines.append(Line(f"BUSY {key}", what, shown, r, "≤ 2.0"))
    return lines


def _busy_needs(key: str) -> tuple[Need, ...]:
    return Need(key, ("gradstep", "torch")), Need(key, ("gradstep", "torch"), busy=True)


ROWS = {
    "W1": Row("W1", (Need("W1", MLP_SYSTEMS),), _w1),
    "W2": Row(
        "W2", (Need("W2", MLP_SYSTEMS), Need("digits-epoch", ("gradstep-loop", "sklearn"))), _w2
    ),
    "W3": Row("W3", (Need("W3", MLP_SYSTEMS),), _w3),
    "W4": Row("W4", (Need("W4", ("gradstep", "numpy")),), _w4),
    "W5": Row("W5", (Need("W5", MLP_SYSTEMS),), _w5),
    "W6": Row("W6", (Need("W6", MLP_SYSTEMS),), _w6),
    "W7": Row("W7", (Need("digits-epoch", ("gradstep-fit", "gradstep-loop")),), _w7),
    "OPT": Row("OPT", tuple(Need(f"OPT-{n}", ("gradstep", "torch")) for n in OPT_NAMES), _opt),
    "BUSY": Row("BUSY", _busy_needs("W1") + _busy_needs("W2"), _busy),
}
