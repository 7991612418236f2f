"""Benchmark harness: time each workload in fresh worker processes, gradstep and PyTorch in turn.

A benchmark script lists its workloads and hands them to :func:`main`::

    from common import Workload, main   # benchmarks/ is on sys.path when the script runs

    WORKLOADS = [Workload("name", "what it times", {"gradstep": build_gs, "torch": build_torch})]

    if __name__ == "__main__":
        main(WORKLOADS)

A builder takes no arguments, does all set-up (imports, data, parameters) and returns a
zero-argument callable: one iteration. Builders import numpy/torch inside their bodies, never at the
top of the script, so that each worker fixes its thread count before any BLAS library is loaded.

The parent runs ``python <script> --worker SYSTEM --workload NAME`` once per system, per workload,
per round, swapping the order of the systems every round, and prints a markdown table of median µs
per iteration with the ratio of each system to the baseline (``torch``) taken within each round.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

THREADS = 2
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BASELINE = "torch"

_SRC = Path(__file__).resolve().parent.parent / "src"


def _pin_threads() -> None:
    """Fix the thread pools before numpy or torch is imported (they read these once, at load)."""
    early = [m for m in ("numpy", "torch") if m in sys.modules]
    if early:
        raise RuntimeError(
            f"{' and '.join(early)} was imported before the benchmark harness, so its thread count "
            "cannot be fixed; import common first and numpy/torch only inside the builders."
        )
    for var in THREAD_VARS:
        os.environ[var] = str(THREADS)


if "--worker" in sys.argv:
    _pin_threads()
if (_SRC / "gradstep").is_dir():
    sys.path.insert(0, str(_SRC))  # time this checkout's code, installed or not


@dataclass(frozen=True)
class Workload:
    """One timed iteration, built separately for each system (``{"gradstep": fn, "torch": fn}``)."""

    name: str
    description: str
    builders: dict[str, Callable[[], Callable[[], object]]] = field(default_factory=dict)


# -- worker side ------------------------------------------------------------------------------
def _limit_torch_threads() -> None:
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(THREADS)


def time_iterations(
    step: Callable[[], object], seconds: float, min_blocks: int = 21
) -> dict[str, float]:
    """Warm up, then time blocks of iterations of ``step`` for about ``seconds``.

    Each block runs enough iterations to last at least 2 ms, so timer resolution and rare pauses
    (garbage collection, interrupts) are averaged inside a block; the result is the median over
    blocks (at least ``min_blocks`` of them) of µs per iteration.
    """
    warm_until = time.perf_counter() + max(0.1, 0.2 * seconds)
    n_warm = 0
    while n_warm < 10 or time.perf_counter() < warm_until:
        step()
        n_warm += 1
    t0 = time.perf_counter()
    for _ in range(5):
        step()
    per_iter = (time.perf_counter() - t0) / 5
    block = max(1, int(2e-3 / max(per_iter, 1e-9)))
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    while len(samples) < min_blocks or time.perf_counter() < stop:
        t0 = time.perf_counter()
        for _ in range(block):
            step()
        samples.append((time.perf_counter() - t0) / block * 1e6)
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p10_us": samples[len(samples) // 10],
        "min_us": samples[0],
        "blocks": len(samples),
        "iters_per_block": block,
    }


def environment_info() -> dict[str, object]:
    """Versions, thread pools and BLAS kernels as one worker sees them (numpy and torch loaded)."""
    import numpy as np
    import threadpoolctl

    info: dict[str, object] = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import torch
    except ImportError:
        torch = None
    _limit_torch_threads()
    pools = threadpoolctl.threadpool_info()
    info["numpy_blas"] = [
        {
            k: p.get(k)
            for k in (
                "internal_api",
                "architecture",
                "version",
                "num_threads",
                "prefix",
                "filepath",
            )
        }
        for p in pools
        if p.get("user_api") == "blas"
    ]
    if torch is not None:
        torch_blas = "MKL" if torch.backends.mkl.is_available() else "its own"
        for line in torch.__config__.parallel_info().splitlines():
            if "Math Kernel Library Version" in line:
                torch_blas = "MKL " + line.split("Version", 1)[1].split()[0]
        info.update(torch=torch.__version__, torch_blas=torch_blas)
        info["torch_threads"] = torch.get_num_threads()
    return info


def _run_worker(workloads: Sequence[Workload], system: str, name: str, seconds: float) -> None:
    if system == "info":
        print(json.dumps(environment_info()))
        return
    wl = {w.name: w for w in workloads}[name]
    step = wl.builders[system]()
    _limit_torch_threads()
    gc.collect()
    result = time_iterations(step, seconds)
    if system != "torch":
        import threadpoolctl

        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        result["blas_threads"] = max((p["num_threads"] for p in pools), default=0)
    print(json.dumps(result))


# -- parent side ------------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or the platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _spawn(script: str, args: list[str]) -> dict:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(THREADS)
    proc = subprocess.run(
        [sys.executable, script, *args], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt_us(us: float) -> str:
    return f"{us:,.1f}" if us < 100 else f"{us:,.0f}"


def render_table(
    workloads: Sequence[Workload],
    systems: Sequence[str],
    results: dict[tuple[str, str], list[dict]],
    info: dict,
    rounds: int,
    seconds: float,
    load: str = "n/a",
) -> str:
    """The markdown report: one row per workload, then the machine it ran on.

    For each system other than the baseline the ratio to the baseline is given twice: from the
    runs' medians (with its range over rounds) and from their fastest tenths (p10), which a busy
    machine disturbs less.
    """
    others = [s for s in systems if s != BASELINE]
    head = ["workload"] + [f"{s} µs" for s in systems]
    if BASELINE in systems:
        for s in others:
            head += [f"{s}/{BASELINE} (range)", f"{s}/{BASELINE} p10"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for w in workloads:
        row = [w.name]
        for s in systems:
            runs = results.get((w.name, s))
            row.append(_fmt_us(statistics.median(r["median_us"] for r in runs)) if runs else "—")
        base = results.get((w.name, BASELINE))
        for s in others if BASELINE in systems else ():
            runs = results.get((w.name, s))
            if not (runs and base):
                row += ["—", "—"]
                continue
            ratios = [a["median_us"] / b["median_us"] for a, b in zip(runs, base)]
            fast = [a["p10_us"] / b["p10_us"] for a, b in zip(runs, base)]
            row.append(f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})")
            row.append(f"{statistics.median(fast):.2f}")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for w in workloads:
        lines.append(f"- `{w.name}`: {w.description}")
    blas = "; ".join(
        f"{b['internal_api']} {b['version']} kernel {b['architecture']}, {b['num_threads']} threads"
        for b in info["numpy_blas"]
    )
    overrides = ", ".join(
        f"{v}={os.environ[v]}" if v in os.environ else f"{v} unset" for v in OPENBLAS_OVERRIDES
    )
    torch_line = (
        f"; PyTorch {info['torch']} (BLAS: {info['torch_blas']}, {info['torch_threads']} threads)"
        if "torch" in info
        else ""
    )
    lines += [
        "",
        f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); Python {info['python']}",
        f"NumPy {info['numpy']} (BLAS: {blas or 'none reported'}){torch_line}",
        f"{THREADS} threads per worker; {overrides}; load average {load}. Each cell: median over "
        f"{rounds} rounds of one fresh process's median µs per iteration (~{seconds:g} s of "
        "timing); ratios are taken within each round (systems alternate order every round).",
    ]
    return "\n".join(lines)


def load_average() -> str:
    """The 1-minute load average (a busy machine makes every number noisier), or "n/a"."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main(workloads: Sequence[Workload], argv: Sequence[str] | None = None) -> None:
    """Entry point of a benchmark script: parent by default, worker with ``--worker``."""
    names = [w.name for w in workloads]
    p = argparse.ArgumentParser(description="Time workloads in gradstep and PyTorch, side by side.")
    p.add_argument("--worker", help="run one workload in this process (internal)")
    p.add_argument("--workload", action="append", choices=names, help="only these (repeatable)")
    p.add_argument("--rounds", type=int, default=5, help="processes per system and workload")
    p.add_argument("--seconds", type=float, default=1.0, help="timing per process")
    p.add_argument("--output", help="also write the markdown table to this file")
    args = p.parse_args(argv)
    if args.worker:
        if not args.workload or len(args.workload) != 1:
            p.error("--worker needs exactly one --workload")
        _run_worker(workloads, args.worker, args.workload[0], args.seconds)
        return
    if args.rounds < 1 or args.seconds <= 0:
        p.error("--rounds must be >= 1 and --seconds > 0")
    chosen = [w for w in workloads if not args.workload or w.name in args.workload]
    script = os.path.abspath(sys.modules["__main__"].__file__)
    load_start = load_average()
    info = _spawn(script, ["--worker", "info", "--workload", names[0]])
    results: dict[tuple[str, str], list[dict]] = {}
    systems: list[str] = []
    for w in chosen:
        for s in w.builders:
            if s not in systems:
                systems.append(s)
    for r in range(args.rounds):
        for w in chosen:
            order = list(w.builders) if r % 2 == 0 else list(reversed(w.builders))
            for s in order:
                print(f"round {r + 1}/{args.rounds}: {w.name} [{s}]", file=sys.stderr, flush=True)
                args_w = ["--worker", s, "--workload", w.name, "--seconds", str(args.seconds)]
                results.setdefault((w.name, s), []).append(_spawn(script, args_w))
    load = f"{load_start} at the start, {load_average()} at the end"
    table = render_table(chosen, systems, results, info, args.rounds, args.seconds, load)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n")
