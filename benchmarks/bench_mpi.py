"""Data parallelism on MPI: allreduce time against message size, and the step time and scaling
efficiency from 1 to 2 processes, for the 784-512-256-10 MLP (batch 128 per process) and the
MNIST-1D CNN (batch 100 per process); then, on paper, the efficiency at 8-64 machines from an
α + β·n model of each allreduce for common cluster networks.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_mpi.py

The parent starts every measurement as its own job (``mpiexec -n 2`` or one plain process) and
prints markdown tables. Each process uses one BLAS thread unless a row says otherwise, so that
two processes on this 2-core machine do not fight over cores.
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

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent / "src"
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
SIZES = [2**k for k in range(6, 25, 2)]  # float32 elements: 256 B .. 64 MiB

# Cluster networks for the paper model: (name, α in µs per message, bandwidth in Gbit/s).
# α is the one-way small-message latency MPI sees; typical published values, not measured here.
NETWORKS = [
    ("10 GbE, TCP", 25.0, 10),
    ("25 GbE, TCP", 15.0, 25),
    ("100 GbE, RoCE", 4.0, 100),
    ("InfiniBand HDR", 1.5, 200),
]
MACHINES = [8, 16, 32, 64]
STAT = "median"  # or "best": the fastest block, the estimate of an idle machine on a busy one


# -- workers (run under mpiexec or alone) --------------------------------------------------------
def _timed(fn, seconds: float, comm=None, min_block_s: float = 0.004) -> float:
    """Seconds per call of ``fn`` (the median, or the best with ``--stat best``) over blocks of
    calls lasting at least ``min_block_s``.
    With ``comm``, rank 0 decides every block's length and when to stop, so that all ranks make
    the same calls (``fn`` may be collective); the slowest rank's median is returned."""

    def agree(value):
        return value if comm is None else comm.bcast(value, root=0)

    for _ in range(3):
        fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        if agree(time.perf_counter() - t >= min_block_s):
            break
        n *= 2
    blocks = []
    end = time.perf_counter() + seconds
    while agree(time.perf_counter() < end or len(blocks) < 5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        blocks.append((time.perf_counter() - t) / n)
    value = statistics.median(blocks) if STAT == "median" else min(blocks)
    if comm is None:
        return value
    from mpi4py import MPI

    return comm.allreduce(value, op=MPI.MAX)


def worker_allreduce(seconds: float) -> dict:
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    out = {}
    for n in SIZES:
        buf = np.ones(n, dtype=np.float32)
        comm.Barrier()
        out[n * 4] = _timed(lambda b=buf: comm.Allreduce(MPI.IN_PLACE, b), seconds, comm)
    return {"allreduce_s": out, "world": comm.Get_size()}


def build(model: str, batch: int):
    import numpy as np

    import gradstep as gs
    from gradstep import nn

    gs.manual_seed(0)
    rng = np.random.default_rng(0)
    if model == "mlp":
        net = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )
        x = rng.normal(size=(batch, 784)).astype(np.float32)
    else:  # the MNIST-1D CNN (Greydanus 2020)
        net = nn.Sequential(
            nn.Conv1d(1, 25, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(125, 10),
        )
        x = rng.normal(size=(batch, 1, 40)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    return net, gs.tensor(x), y


def worker_step(model: str, batch: int, seconds: float) -> dict:
    import gradstep.distributed as dist
    from gradstep.functional import cross_entropy
    from gradstep.optim import Adam

    dist.init()
    net, x, y = build(model, batch)
    opt = Adam(net.parameters(), lr=1e-3)
    world = dist.world_size()
    if world > 1:
        opt = dist.DistributedOptimizer(opt)
    n_params = sum(int(p.data.size) for p in net.parameters())
    sync_time = [0.0]

    def step():
        opt.zero_grad()
        loss = cross_entropy(net(x), y)
        loss.backward()
        if world > 1:  # what Trainer.fit exchanges: the gradients, the loss, count and stop flag
            t = time.perf_counter()
            opt.synchronize(weight=float(batch), values=(float(loss.data) * batch, batch, 0.0))
            sync_time[0] += time.perf_counter() - t
        opt.step()

    if world == 1:
        per_step = _timed(step, seconds)
        return {"step_s": per_step, "sync_s": 0.0, "world": 1, "params": n_params}
    comm = dist.comm()
    per_step = _timed(step, seconds, comm)

    def sync_only():
        opt.synchronize(weight=float(batch), values=(1.0, float(batch), 0.0))

    net.zero_grad()
    cross_entropy(net(x), y).backward()
    sync = _timed(sync_only, seconds / 2, comm)
    return {"step_s": per_step, "sync_s": sync, "world": world, "params": n_params}


# -- parent ------------------------------------------------------------------------------------
def _job(args: list[str], nproc: int, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    head = [MPIEXEC, "-n", str(nproc)] if nproc > 1 else []
    cmd = [*head, sys.executable, str(HERE), "--worker", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fit_alpha_beta(sizes_s: dict[int, float]) -> tuple[float, float]:
    """Least squares t = α + β·n over the messages from 64 KiB to 4 MiB (the bandwidth regime
    of gradient buckets; larger ones leave the caches), α from the smallest message."""
    pts = [(n, t) for n, t in sizes_s.items() if 65536 <= n <= 4 * 2**20]
    mean_n = sum(n for n, _ in pts) / len(pts)
    mean_t = sum(t for _, t in pts) / len(pts)
    beta = sum((n - mean_n) * (t - mean_t) for n, t in pts) / sum((n - mean_n) ** 2 for n, _ in pts)
    return min(sizes_s.values()), beta


def allreduce_model(n_bytes: float, p: int, alpha: float, beta: float) -> float:
    """Seconds for an allreduce of ``n_bytes`` on ``p`` machines: MPI's choice between recursive
    doubling (log2 p rounds of the whole message; small messages) and the ring or Rabenseifner
    reduce-scatter + allgather (2(p-1) rounds of n/p; large messages)."""
    doubling = math.ceil(math.log2(p)) * (alpha + n_bytes * beta)
    ring = 2 * (p - 1) * alpha + 2 * (p - 1) / p * n_bytes * beta
    return min(doubling, ring)


def step_comm(n_bytes: float, p: int, alpha: float, beta: float, head_bytes: float) -> float:
    """One step's communication: the small exchange (weights, loss, flags), then the gradients."""
    return allreduce_model(head_bytes, p, alpha, beta) + allreduce_model(n_bytes, p, alpha, beta)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=1.0, help="timing per measurement")
    ap.add_argument(
        "--stat",
        choices=("median", "best"),
        default="median",
        help="per measurement: the median block, or the fastest (for a machine others load)",
    )
    opts = ap.parse_args()
    global STAT
    STAT = opts.stat
    if opts.worker:
        kind, *rest = opts.worker
        if kind == "allreduce":
            res = worker_allreduce(opts.seconds)
        else:
            res = worker_step(rest[0], int(rest[1]), opts.seconds)
        if int(os.environ.get("PMI_RANK", "0")) == 0:
            print(json.dumps(res))
        return

    sec = str(opts.seconds)
    timing = ["--seconds", sec, "--stat", opts.stat]
    load0 = os.getloadavg()[0]
    ar = _job(["allreduce", *timing], 2, 1)["allreduce_s"]
    ar = {int(k): v for k, v in ar.items()}
    steps = {}
    for model, batch in (("mlp", 128), ("cnn", 100)):
        for nproc, threads in ((1, 1), (1, 2), (2, 1)):
            steps[model, nproc, threads] = _job(
                ["step", model, str(batch), *timing], nproc, threads
            )
    sweep = {}
    for model, batches in (("mlp", (32, 128, 512)), ("cnn", (25, 100, 400))):
        for b in batches:
            sweep[model, b] = _job(["step", model, str(b), *timing], 1, 1)["step_s"]
    load1 = os.getloadavg()[0]

    print(
        f"\nCPU: {_cpu()} · {os.cpu_count()} logical cores · load {load0:.2f} → {load1:.2f} · "
        f"{opts.stat} of blocks of {opts.seconds:g} s\n"
    )
    print("| message | allreduce µs (2 ranks) | GB/s (algorithmic) |\n|---:|---:|---:|")
    for n, t in ar.items():
        print(f"| {_bytes(n)} | {t * 1e6:,.1f} | {n / t / 1e9:.2f} |")
    alpha, beta = _fit_alpha_beta(ar)
    print(f"\nshared memory, 2 ranks: α ≈ {alpha * 1e6:.1f} µs, β ≈ {beta * 1e9:.3f} ns/byte\n")

    print(
        "| model (batch per process) | params | 1 proc, 1 thread ms | 1 proc, 2 threads ms "
        "| 2 procs ms | of which exchange ms | throughput ×, vs 1 thread | vs 2 threads |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for model, batch in (("mlp", 128), ("cnn", 100)):
        one, two_t, two_p = (steps[model, 1, 1], steps[model, 1, 2], steps[model, 2, 1])
        sp1 = 2 * one["step_s"] / two_p["step_s"]
        sp2 = 2 * two_t["step_s"] / two_p["step_s"]
        print(
            f"| {model} ({batch}) | {one['params']:,} | {one['step_s'] * 1e3:.2f} | "
            f"{two_t['step_s'] * 1e3:.2f} | {two_p['step_s'] * 1e3:.2f} | "
            f"{two_p['sync_s'] * 1e3:.3f} | {sp1:.2f} (efficiency {sp1 / 2:.0%}) | {sp2:.2f} |"
        )

    print("\nOne process, one thread, step time against batch (fit t = t0 + c·b):\n")
    fits = {}
    for model in ("mlp", "cnn"):
        pts = [(b, t) for (m, b), t in sweep.items() if m == model]
        bs, ts = zip(*pts)
        c = (ts[-1] - ts[0]) / (bs[-1] - bs[0])
        t0 = ts[0] - c * bs[0]
        fits[model] = (t0, c)
        row = ", ".join(f"b={b}: {t * 1e3:.2f} ms" for b, t in pts)
        print(f"- {model}: {row}; t0 = {t0 * 1e3:.3f} ms, c = {c * 1e6:.2f} µs per sample")

    print(
        "\nOn paper: weak-scaling efficiency t_c / (t_c + T_comm) with no overlap, the batch "
        "per machine as measured above (compute = this machine's 1-thread step):\n"
    )
    head = 8 * (1 + 3 + 6)  # float64: weight, loss, count, stop, one flag per parameter tensor
    for model, batch in (("mlp", 128), ("cnn", 100)):
        n_bytes = steps[model, 1, 1]["params"] * 4
        t0, c = fits[model]
        tc = sweep[model, batch]  # measured; the fit gives the batch where the two are equal
        print(
            f"{model}: {n_bytes / 1e6:.3f} MB of float32 gradients per step, t_c = "
            f"{tc * 1e3:.2f} ms at batch {batch}\n"
        )
        print(
            "| network | α µs | β ns/B | T_comm p=64 ms | "
            + " | ".join(f"p={p}" for p in MACHINES)
            + " | batch per machine where T_comm = t_c (p=64) |"
        )
        print("|---|---:|---:|---:|" + "---:|" * len(MACHINES) + "---:|")
        for name, a_us, gbit in NETWORKS:
            a, bta = a_us * 1e-6, 8 / (gbit * 1e9)
            effs = []
            for p in MACHINES:
                tcomm = step_comm(n_bytes, p, a, bta, head)
                effs.append(f"{tc / (tc + tcomm):.0%}")
            tcomm64 = step_comm(n_bytes, 64, a, bta, head)
            if tcomm64 <= t0 + c:
                b_star = "none: batch 1 already outweighs it"
            else:
                b_star = f"{math.ceil((tcomm64 - t0) / c):,}"
            print(
                f"| {name} | {a_us:g} | {bta * 1e9:.3f} | {tcomm64 * 1e3:.3f} | "
                + " | ".join(effs)
                + f" | {b_star} |"
            )
        print()


def _bytes(n: int) -> str:
    for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    if "--worker" in sys.argv and SRC.is_dir():
        sys.path.insert(0, str(SRC))
    main()
