"""Time one optimizer step on a ~1M-parameter MLP: gradstep against torch.optim (single-tensor
and foreach paths), float32, 2 threads each.

Each (implementation, optimizer) pair runs in its own subprocess; runs alternate between gradstep
and torch over several rounds, and the tables report the median over rounds of each run's median
step time, and of each run's 10th percentile (a view less sensitive to a busy machine). Run it
with the BLAS tuning variables unset::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_optim.py

Options: ``--rounds N`` (default 3), ``--steps N`` timed steps per run (default 60),
``--only NAME`` to run one configuration.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

THREADS = 2
# An MLP 784 -> 1000 -> 256 -> 10: 1,044,522 parameters in 6 arrays.
SHAPES = [(1000, 784), (1000,), (256, 1000), (256,), (10, 256), (10,)]

CONFIGS = {
    "SGD": ("SGD", {"lr": 0.01}),
    "SGD momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "SGD nesterov wd": (
        "SGD",
        {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4},
    ),
    "Adagrad": ("Adagrad", {"lr": 0.01}),
    "RMSprop": ("RMSprop", {"lr": 0.001}),
    "RMSprop centered mom": ("RMSprop", {"lr": 0.001, "centered": True, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 0.001}),
    "Adam amsgrad": ("Adam", {"lr": 0.001, "amsgrad": True}),
    "AdamW": ("AdamW", {"lr": 0.001}),
}
IMPLS = ["gradstep", "torch foreach=False", "torch foreach=True"]


def thread_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(THREADS)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def worker(impl: str, config: str, warmup: int, steps: int) -> None:
    """Build the model and optimizer, step it, print the median step time in µs as JSON."""
    import numpy as np

    cls_name, kwargs = CONFIGS[config]
    rng = np.random.default_rng(0)
    init = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in SHAPES]
    grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in SHAPES]
    if impl == "gradstep":
        import gradstep.optim as optim
        from gradstep.tensor import tensor

        params = [tensor(a, requires_grad=True) for a in init]
        for p, g in zip(params, grads):
            p.grad = g
        opt = getattr(optim, cls_name)(params, **kwargs)
    else:
        import torch

        torch.set_num_threads(THREADS)
        params = [torch.tensor(a, requires_grad=True) for a in init]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g)
        foreach = impl.endswith("True")
        opt = getattr(torch.optim, cls_name)(params, foreach=foreach, **kwargs)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    print(
        json.dumps({"median": times[len(times) // 2] * 1e6, "p10": times[len(times) // 10] * 1e6})
    )


def run_one(impl: str, config: str, warmup: int, steps: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", impl, "--config", config]
    cmd += ["--warmup", str(warmup), "--steps", str(steps)]
    out = subprocess.run(cmd, env=thread_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    import numpy as np
    from threadpoolctl import threadpool_info

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    tuned = {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}
    lines = [
        f"CPU: {model} ({os.cpu_count()} logical CPUs)",
        f"NumPy {np.__version__}; BLAS: {'; '.join(blas) or 'none reported'}",
        f"threads per run: {THREADS}",
    ]
    if tuned:
        lines.append(f"warning: set in the environment (unset them for the benchmark): {tuned}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=IMPLS)
    parser.add_argument("--config", choices=list(CONFIGS))
    parser.add_argument("--only", choices=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.config, args.warmup, args.steps)
        return

    print(machine())
    n = sum(math.prod(s) for s in SHAPES)
    print(f"model: MLP 784-1000-256-10, {n:,} float32 parameters in {len(SHAPES)} arrays")
    print(f"{args.rounds} rounds x {args.steps} timed steps (after {args.warmup}) per run")
    configs = [args.only] if args.only else list(CONFIGS)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        for config in configs:
            order = IMPLS if r % 2 == 0 else IMPLS[::-1]  # alternate who goes first
            for impl in order:
                results.setdefault((config, impl), []).append(
                    run_one(impl, config, args.warmup, args.steps)
                )
    for stat, title in (("median", "median"), ("p10", "fastest tenth (10th percentile)")):
        print(f"\n{title} of the step times, µs per step:\n")
        print(
            "| optimizer | gradstep | torch foreach=False | torch foreach=True "
            "| gradstep / torch single | gradstep / torch foreach |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for config in configs:
            gs, single, multi = (
                statistics.median(run[stat] for run in results[(config, i)]) for i in IMPLS
            )
            print(
                f"| {config} | {gs:,.0f} | {single:,.0f} | {multi:,.0f} | "
                f"{gs / single:.2f} | {gs / multi:.2f} |"
            )


if __name__ == "__main__":
    main()
