"""Time one optimizer step: gradstep against torch.optim (single-tensor and foreach paths),
float32, 2 threads each, on a ~1M-parameter MLP (``--model 1M``, the default) or on the small
64-128-64-10 MLP (``--model small``, 17,226 parameters: per-step overhead).

gradstep's parameters and gradients are views into one flat buffer each, as the Trainer lays them
out (``--loose`` keeps one array per parameter), so ``step()`` makes one fused call per run of
parameters; ``gradstep loop`` is the same model stepped by the per-parameter loop
(GRADSTEP_KERNELS=none), the path every step took before fusion. ``--kernels`` picks gradstep's
fused kernels: ``auto`` (numba when it imports, else NumPy), ``numpy`` or ``numba``.

Each (implementation, optimizer) pair runs in its own subprocess; runs alternate in order over
several rounds, and the tables report the median over rounds of each run's median step time, and
of each run's 10th percentile (a view less sensitive to a busy machine). Run it with the BLAS
tuning variables unset::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_optim.py

Options: ``--rounds N`` (default 3), ``--steps N`` timed steps per run (default 60 for 1M, 2000
for small), ``--only NAME`` to run one configuration, ``--kernels``, ``--loose``, ``--model``.
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
from typing import Any

THREADS = 2
MODELS = {
    # An MLP 784 -> 1000 -> 256 -> 10: 1,043,826 parameters in 6 arrays.
    "1M": [(1000, 784), (1000,), (256, 1000), (256,), (10, 256), (10,)],
    # An MLP 64 -> 128 -> 64 -> 10: 17,226 parameters in 6 arrays.
    "small": [(128, 64), (128,), (64, 128), (64,), (10, 64), (10,)],
}
DEFAULT_STEPS = {"1M": 60, "small": 2000}

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
IMPLS = ["gradstep", "gradstep loop", "torch foreach=False", "torch foreach=True"]


def thread_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(THREADS)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def worker(impl: str, config: str, warmup: int, steps: int, model: str, loose: bool) -> None:
    """Build the model and optimizer, step it, print the median step time in µs as JSON."""
    import numpy as np

    shapes = MODELS[model]
    cls_name, kwargs = CONFIGS[config]
    rng = np.random.default_rng(0)
    init = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in shapes]
    info = {}
    if impl.startswith("gradstep"):
        import gradstep.optim as optim
        from gradstep.nn.flat import flatten_parameters
        from gradstep.optim import kernels
        from gradstep.tensor import tensor

        params = [tensor(a, requires_grad=True) for a in init]
        if loose:
            for p, g in zip(params, grads):
                p.grad = g
        else:
            flat = flatten_parameters(params)
            flat.grads[...] = np.concatenate([g.ravel() for g in grads])
            for p in params:  # as a backward leaves them: .grad is the flat buffer's view
                p.grad = p._grad_store
        opt = getattr(optim, cls_name)(params, **kwargs)
        kernels.preload()  # steady steps: numba loaded, as a long run has it
        info["kernels"] = kernels.kernel_choice()
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
    info.update(median=times[len(times) // 2] * 1e6, p10=times[len(times) // 10] * 1e6)
    print(json.dumps(info))


def run_one(impl: str, config: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", impl, "--config", config, "--model", args.model]
    cmd += ["--warmup", str(args.warmup), "--steps", str(args.steps)]
    cmd += ["--loose"] if args.loose else []
    env = thread_env()
    env["GRADSTEP_KERNELS"] = "none" if impl == "gradstep loop" else args.kernels
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
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
    parser.add_argument("--model", choices=list(MODELS), default="1M")
    parser.add_argument("--kernels", choices=["auto", "numpy", "numba"], default="auto")
    parser.add_argument("--loose", action="store_true", help="no flat buffers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int)
    args = parser.parse_args()
    args.steps = args.steps or DEFAULT_STEPS[args.model]
    if args.worker:
        worker(args.worker, args.config, args.warmup, args.steps, args.model, args.loose)
        return

    print(machine())
    shapes = MODELS[args.model]
    n = sum(math.prod(s) for s in shapes)
    layout = "one array per parameter" if args.loose else "flat buffers"
    print(f"model: {args.model}, {n:,} float32 parameters in {len(shapes)} arrays, {layout}")
    print(f"{args.rounds} rounds x {args.steps} timed steps (after {args.warmup}) per run")
    configs = [args.only] if args.only else list(CONFIGS)
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(args.rounds):
        for config in configs:
            order = IMPLS if r % 2 == 0 else IMPLS[::-1]  # alternate who goes first
            for impl in order:
                results.setdefault((config, impl), []).append(run_one(impl, config, args))
    kernels = {run.get("kernels") for (_, impl), runs in results.items() for run in runs}
    kernels.discard(None)
    kernels.discard("none")
    print(f"gradstep's fused kernels: {', '.join(sorted(kernels))}")
    for stat, title in (("median", "median"), ("p10", "fastest tenth (10th percentile)")):
        print(f"\n{title} of the step times, µs per step:\n")
        print(
            "| optimizer | gradstep | gradstep loop | torch foreach=False | torch foreach=True "
            "| gradstep / torch single | gradstep / torch foreach | gradstep / loop |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for config in configs:
            fused_t, loop, single, multi = (
                statistics.median(run[stat] for run in results[(config, i)]) for i in IMPLS
            )
            print(
                f"| {config} | {fused_t:,.1f} | {loop:,.1f} | {single:,.1f} | {multi:,.1f} | "
                f"{fused_t / single:.2f} | {fused_t / multi:.2f} | {fused_t / loop:.2f} |"
            )


if __name__ == "__main__":
    main()
