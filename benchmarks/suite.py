"""One command for the eager-speed and captured-step tables: every row, each framework in its own
fresh process, the table printed and written into BENCHMARKS.md.

From the repository root::

    .venv/bin/python benchmarks/suite.py                 # every row (about 15 minutes)
    .venv/bin/python benchmarks/suite.py --quick         # smoke run: 2 rounds, short recipes
    .venv/bin/python benchmarks/suite.py --only W1,W2    # some rows
    .venv/bin/python benchmarks/suite.py --record        # also store the ranges that flag a row

Rows (``suite_rows.ROWS``): W1–W4 one full training step, W5/W6 the MNIST-1D recipes, W7
``Trainer.fit`` over a hand loop, OPT optimizer steps, BUSY W1/W2 with a core kept busy. Workers
get 2 threads each and the OpenBLAS overrides (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) removed; the
systems alternate order every round; every round starts a job with the correctness guard.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import OPENBLAS_OVERRIDES, THREAD_VARS, THREADS, cpu_model, load_average
from suite_report import cpu_busy_fraction, flag, load_ranges, record_ranges, render, write_section
from suite_rows import ROWS, Results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RANGES = HERE / "suite_ranges.json"
RECIPES = ("W5", "W6")
WORKER_S = 1800  # a worker that runs longer than this is hung (the longest, W6, takes ~30 s)
LONG_STEPS = ("W4", "digits-epoch")  # a step of 0.05–0.3 s: fewer timed blocks
QUICK = {"rounds": 2, "seconds": 0.3, "min_blocks": 5, "recipe_rounds": 1, "recipe_steps": 600}
FULL = {"rounds": 5, "seconds": 1.0, "min_blocks": 21, "recipe_rounds": 3, "recipe_steps": 6000}
BUSY_LOOP = """import os
try:
    os.sched_setaffinity(0, {1})
except (OSError, AttributeError):
    pass
while True:
    pass
"""


# -- worker -------------------------------------------------------------------------------------
def worker(job: str, system: str, settings: dict) -> None:
    """Run one job in this process and print its result as the last line of JSON."""
    if system == "jax":
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > THREADS:  # XLA sizes its pool by the visible cores: show it 2
            os.sched_setaffinity(0, cpus[:THREADS])
    from suite_jobs import run_job

    print(json.dumps(run_job(job, system, settings)))


# -- parent -------------------------------------------------------------------------------------
def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env.update({var: str(THREADS) for var in THREAD_VARS})
    env["JAX_PLATFORMS"] = "cpu"
    return env


def spawn(job: str, system: str, settings: dict) -> dict:
    cmd = [sys.executable, __file__, "--worker", job, "--system", system]
    cmd += ["--settings", json.dumps(settings)]
    try:
        proc = subprocess.run(
            cmd, env=worker_env(), capture_output=True, text=True, check=False, timeout=WORKER_S
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"suite worker {job} [{system}] ran past {WORKER_S} s; stopped.") from None
    if proc.returncode != 0:
        raise SystemExit(f"suite worker {job} [{system}] failed:\n{proc.stderr.strip()[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def busy_core():
    """A pure busy-loop process, pinned to CPU 1 where the OS allows, for as long as it is open."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def _close(a: list[float], b: list[float], tolerances: tuple[float, float]) -> bool:
    n = min(len(a), len(b))
    return n > 0 and all(
        abs(x - y) <= (tolerances[0] if i == 0 else tolerances[1]) * max(abs(y), 1e-6)
        for i, (x, y) in enumerate(zip(a[:n], b[:n]))
    )


def check_guard(job: str, busy: bool, systems: list[str], results: Results) -> None:
    """This round's guard values of every system against the reference's; stop the suite if any
    differ. A captured step may run one step while recording: its values may lag by one."""
    ref_system = "numpy" if job == "W4" else "torch"
    ref = results.get((job, ref_system, busy))
    if not ref or "guard" not in ref[-1]:
        return
    tol = (1e-5, 1e-5) if job.startswith("OPT-") else (1e-4, 2e-3)
    for system in systems:
        got = results.get((job, system, busy))
        if system == ref_system or not got or "guard" not in got[-1]:
            continue
        a, b = got[-1]["guard"], ref[-1]["guard"]
        lags = (0, 1) if system == "gradstep-capture" else (0,)
        if not any(_close(a, b[lag:], tol) for lag in lags):
            raise SystemExit(
                f"correctness guard failed: {job} in {system} gave {a} where {ref_system} gave "
                f"{b} for the same weights and batch; fix the workload or the engine before timing."
            )


def plan(keys: list[str], info: dict) -> tuple[dict[tuple[str, bool], list[str]], list[str]]:
    """The jobs to spawn each round ({(job, busy): systems}) and notes on systems left out."""
    drop, notes = set(), []
    if not (info.get("jax") and info.get("optax")):
        drop.add("jax")
        notes.append("JAX column empty: jax and optax are not installed (`pip install jax optax`).")
    if not info.get("gradstep_capture"):
        drop.add("gradstep-capture")
        notes.append("gradstep-capture column empty: `gradstep.capture` does not exist yet.")
    needs: dict[tuple[str, bool], list[str]] = {}
    for key in keys:
        for need in ROWS[key].needs:
            systems = needs.setdefault((need.job, need.busy), [])
            systems += [s for s in need.systems if s not in systems and s not in drop]
    ordered = sorted(needs.items(), key=lambda item: item[0][1])  # idle jobs first, busy last
    return dict(ordered), notes


def job_settings(job: str, base: dict, data: str, round_: int) -> dict:
    s = {"seconds": base["seconds"], "min_blocks": base["min_blocks"], "data": data}
    if job in LONG_STEPS:
        s["min_blocks"] = max(5, base["min_blocks"] // 3)
    if job in RECIPES:
        s.update(seed=round_, recipe_steps=base["recipe_steps"])
    return s


def run_rounds(needs: dict, settings: dict, data: str) -> Results:
    results: Results = {}
    rounds = settings["rounds"]
    for r in range(rounds):
        for busy in (False, True):
            jobs = [(job, systems) for (job, b), systems in needs.items() if b == busy]
            if not jobs:
                continue
            with busy_core() if busy else _nothing():
                for job, systems in jobs:
                    if job in RECIPES and r >= settings["recipe_rounds"]:
                        continue
                    for system in systems if r % 2 == 0 else systems[::-1]:
                        tag = f"{job}{' (busy)' if busy else ''} [{system}]"
                        print(f"round {r + 1}/{rounds}: {tag}", file=sys.stderr, flush=True)
                        out = spawn(job, system, job_settings(job, settings, data, r))
                        results.setdefault((job, system, busy), []).append(out)
                    check_guard(job, busy, systems, results)
    return results


@contextmanager
def _nothing():
    yield


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="The gradstep benchmark suite (rows W1–W7, OPT, BUSY).")
    p.add_argument("--worker", help="run one job in this process (internal)")
    p.add_argument("--system", help="the worker's system (internal)")
    p.add_argument("--settings", default="{}", help="the worker's settings as JSON (internal)")
    p.add_argument("--only", help=f"comma-separated rows out of {','.join(ROWS)}")
    p.add_argument("--quick", action="store_true", help="smoke run: few rounds, short recipes")
    p.add_argument("--rounds", type=int, help="processes per system and job (default 5; quick 2)")
    p.add_argument("--seconds", type=float, help="timing per process (default 1.0; quick 0.3)")
    p.add_argument("--recipe-rounds", type=int, help="seeds of W5/W6 (default 3; quick 1)")
    p.add_argument("--recipe-steps", type=int, help="steps of W5/W6 (default 6000; quick 600)")
    p.add_argument(
        "--record", action="store_true", help=f"store this run's ranges in {RANGES.name}"
    )
    p.add_argument("--save", metavar="FILE", help="also save every worker's raw output as JSON")
    p.add_argument("--load", metavar="FILE", help="report a --save'd run instead of running")
    p.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        help="rewrite BENCHMARKS.md's suite section (default: only for a full run of every row)",
    )
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> dict:
    """The run's settings: --quick's or the defaults, with the explicit options on top."""
    settings = dict(QUICK if args.quick else FULL, threads=THREADS)
    for name in ("rounds", "seconds", "recipe_rounds", "recipe_steps"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if settings["rounds"] < 1 or settings["seconds"] <= 0 or settings["recipe_steps"] < 1:
        raise SystemExit("--rounds and --recipe-steps must be at least 1 and --seconds positive.")
    settings["recipe_rounds"] = min(settings["recipe_rounds"], settings["rounds"])
    return settings


def run_notes(keys: list[str]) -> list[str]:
    """The footer's notes on how this run was set up."""
    overrides = [v for v in OPENBLAS_OVERRIDES if v in os.environ]
    notes = [
        f"{' and '.join(overrides)} set in the environment: removed in every worker."
        if overrides
        else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset: OpenBLAS picked its kernel itself.",
    ]
    if "W4" in keys:
        notes.append(
            "W4: the GEMM FLOPs of a step (forward, weight gradients, input gradients of layers "
            "2–3) over its median time, against NumPy's 2048×2048 sgemm rate measured in a "
            "worker of the same round."
        )
    if "BUSY" in keys:
        notes.append(
            "BUSY: a pure busy-loop process pinned to CPU 1 (where allowed) runs during those "
            "workers, which stay unpinned; the slowdown is against the same system's idle W1/W2 "
            "worker of the same round."
        )
    return notes


def command_line(argv: list[str]) -> str:
    """The command as run from the repository root, for the footer."""
    exe = sys.executable
    python = os.path.relpath(exe, ROOT) if exe.startswith(str(ROOT)) else "python"
    return f"{python} benchmarks/suite.py {shlex.join(argv)}".strip()


def measure(args: argparse.Namespace, keys: list[str], argv: list[str]) -> tuple[Results, dict]:
    """Run every round of the chosen rows; the results and what the report says about the run."""
    settings = settings_from(args)
    busy_before, load_start = cpu_busy_fraction(), load_average()
    info = spawn("info", "gradstep", {})
    needs, notes = plan(keys, info)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gradstep-suite-") as tmp:
        data = str(Path(tmp) / "data.npz")
        if any(job in (*RECIPES, "digits-epoch") for job, _ in needs):
            spawn("prep", "gradstep", {"data": data})
        results = run_rounds(needs, settings, data)
    minutes = (time.perf_counter() - t0) / 60
    busy_after, load_end = cpu_busy_fraction(), load_average()
    for (job, system, _), outs in results.items():
        for message in sorted({m for out in outs for m in out.get("warnings", [])}):
            notes.append(f"{job} [{system}] warned: {message}")
    notes += run_notes(keys) + [f"The run took {minutes:.1f} minutes."]
    meta = {
        "keys": keys,
        "command": command_line(argv),
        "date": time.strftime("%Y-%m-%d"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "info": info,
        "settings": settings,
        "quick": args.quick,
        "busy": (busy_before, busy_after),
        "load": f"{load_start} → {load_end}",
        "notes": notes,
    }
    return results, meta


def save_run(path: Path, results: Results, meta: dict) -> None:
    """Every worker's raw output and the run's metadata, as JSON (``--load`` reads it back)."""
    rows = [[job, system, busy, outs] for (job, system, busy), outs in results.items()]
    path.write_text(json.dumps({"meta": meta, "results": rows}, indent=1) + "\n")


def load_run(path: Path) -> tuple[Results, dict]:
    data = json.loads(path.read_text())
    return {(j, s, b): outs for j, s, b, outs in data["results"]}, data["meta"]


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.worker:
        worker(args.worker, args.system, json.loads(args.settings))
        return
    if args.load:
        results, meta = load_run(Path(args.load))
        keys = meta["keys"]
    else:
        keys = list(ROWS) if not args.only else [k.strip().upper() for k in args.only.split(",")]
        unknown = [k for k in keys if k not in ROWS]
        if unknown:
            raise SystemExit(f"unknown row(s) {', '.join(unknown)} in --only; use {list(ROWS)}.")
        results, meta = measure(args, keys, sys.argv[1:] if argv is None else list(argv))
        if args.save:
            save_run(Path(args.save), results, meta)
    lines = [line for key in keys for line in ROWS[key].summarise(results)]
    ranges = load_ranges(RANGES, meta["quick"])
    body = render(lines, meta, ranges)
    print(body)
    full_run = not meta["quick"] and set(keys) == set(ROWS)
    if args.write if args.write is not None else full_run:
        write_section(ROOT / "BENCHMARKS.md", body)
        print(f"\nwrote the suite section of {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    if args.record:
        written = record_ranges(RANGES, lines, meta)
        print(f"recorded ranges for {', '.join(written)} in {RANGES}", file=sys.stderr)
    worse = [line.key for line in lines if flag(line, ranges)]
    if worse:
        print(f"worse than the recorded range: {', '.join(worse)}", file=sys.stderr)


if __name__ == "__main__":
    main()
