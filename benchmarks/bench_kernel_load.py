"""What the first fused optimizer update costs: numba's kernel against the same loop compiled
through llvmlite directly (numba's own compiler back end, installed with the ``fast`` extra).

A question for planning, measured: numba loads its compiled kernels from its disk cache, but
before the first one runs it imports numba and fills its typing and lowering tables (hundreds of
modules, scipy.linalg among them), which costs about half a second and ~100 MiB in every process
that trains long enough to load it (``kernels.NUMBA_LOAD_AFTER``). The loop needs none of that:
this script builds torch's Adam step (float32, no options) as LLVM IR with llvmlite, optimises
and JIT-compiles it, and compares, each in a fresh process:

- numba: importing gradstep's kernel module and the first update of 535,818 float32 parameters
  (W3's MLP), as ``Adam.step()`` does when the kernels load: wall time and resident memory
  added, from after ``import gradstep``;
- llvmlite: import, build, optimise and compile the same loop, and its first update;
- that both write the same bits (three steps from the same state), and the steady time of a call
  at 15,210 (W5), 535,818 (W3) and 1,043,826 (OPT) parameters.

It needs the ``fast`` extra (numba brings llvmlite); nothing in gradstep calls llvmlite::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_kernel_load.py
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = (15_210, 535_818, 1_043_826)
HYPER = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
ROUNDS = 3


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _llvm_adam():
    """torch's Adam update, element by element as gradstep's kernels write it, as one LLVM loop;
    returns ``call(p, g, m, v, h)`` with ``h`` the kernels' hyperparameter vector."""
    import ctypes

    import llvmlite.binding as llvm
    from llvmlite import ir

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    f32, i64 = ir.FloatType(), ir.IntType(64)
    ptr = f32.as_pointer()
    module = ir.Module(name="gradstep_kernels")
    module.triple = llvm.get_process_triple()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ptr] * 5 + [i64]), name="adam")
    p, g, m, v, h, n = fn.args
    for a in (p, g, m, v, h):
        a.add_attribute("noalias")
    entry, loop, done = (fn.append_basic_block(s) for s in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    w1, _, b2, w2, bc2, eps, nss = (b.load(b.gep(h, [ir.Constant(i64, k)])) for k in range(7))
    b.cbranch(b.icmp_signed(">", n, ir.Constant(i64, 0)), loop, done)
    b = ir.IRBuilder(loop)
    i = b.phi(i64)
    i.add_incoming(ir.Constant(i64, 0), entry)
    pp, gp, mp, vp = (b.gep(a, [i]) for a in (p, g, m, v))
    pi, gi, mi, vi = (b.load(a) for a in (pp, gp, mp, vp))
    mm = b.fadd(mi, b.fmul(b.fsub(gi, mi), w1))  # m + (g − m)·(1 − β1)
    b.store(mm, mp)
    vv = b.fadd(b.fmul(vi, b2), b.fmul(b.fmul(gi, gi), w2))  # v·β2 + g²·(1 − β2)
    b.store(vv, vp)
    sqrt = module.declare_intrinsic("llvm.sqrt", [f32])
    d = b.fadd(b.fdiv(b.call(sqrt, [vv]), bc2), eps)
    b.store(b.fadd(pi, b.fmul(b.fdiv(mm, d), nss)), pp)  # p + (m / d)·(−step size)
    nxt = b.add(i, ir.Constant(i64, 1))
    i.add_incoming(nxt, loop)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    ir.IRBuilder(done).ret_void()

    tm = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3
    )
    compiled = llvm.parse_assembly(str(module))
    compiled.verify()
    builder = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=3))
    builder.getModulePassManager().run(compiled, builder)
    engine = llvm.create_mcjit_compiler(compiled, tm)
    engine.finalize_object()
    vp_ = ctypes.c_void_p
    raw = ctypes.CFUNCTYPE(None, vp_, vp_, vp_, vp_, vp_, ctypes.c_int64)(
        engine.get_function_address("adam")
    )

    def call(pa, ga, ma, va, ha):
        raw(pa.ctypes.data, ga.ctypes.data, ma.ctypes.data, va.ctypes.data, ha.ctypes.data, pa.size)

    call.keep = (engine, tm)  # the compiled code lives as long as its engine
    return call


def _hyper_vector(step: int):
    import numpy as np

    b1, b2 = HYPER["beta1"], HYPER["beta2"]
    w1 = 1.0 - b1
    return np.array(
        (w1, 1 - w1, b2, 1 - b2, (1 - b2**step) ** 0.5, HYPER["eps"],
         -HYPER["lr"] / (1 - b1**step)),
        dtype=np.float32,
    )  # fmt: skip


def _state(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    p, g = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    m, v = (np.abs(rng.standard_normal(n)).astype(np.float32) * 0.01 for _ in range(2))
    return [p, g, m, v]


def _steady_us(fn, n: int) -> float:
    reps = max(20, int(2e7 / n))
    fn()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t) / reps)
    return best * 1e6


def worker(kind: str) -> dict:
    """One fresh process: the first-call cost of ``kind`` ("numba" or "llvmlite"), checksums of
    the arrays after three steps at each size, and its steady speed."""

    import gradstep  # noqa: F401 - the baseline is a process with gradstep imported

    first = _state(535_818, seed=1)
    base = _rss_mib()
    t0 = time.perf_counter()
    if kind == "numba":
        from gradstep.optim import kernels_numba as kn  # what Adam.step() imports at first use

        def run(a, step=3):
            kn.adam(a[0], a[1], a[2], a[3], None, step=step, weight_decay=0.0, amsgrad=False,
                    maximize=False, decoupled_weight_decay=False, **HYPER)  # fmt: skip
    else:
        call = _llvm_adam()

        def run(a, step=3):
            call(a[0], a[1], a[2], a[3], _hyper_vector(step))

    run(first, 1)  # the first update, on W3's parameter count
    first_s = time.perf_counter() - t0
    added = _rss_mib() - base
    steady, checksums = {}, {}
    for n in SIZES:
        a = _state(n)
        for step in (1, 2, 3):
            run(a, step)
        checksums[str(n)] = [hashlib.sha256(x.tobytes()).hexdigest() for x in a]
        steady[str(n)] = _steady_us(lambda a=a: run(a), n)
    return {"first_s": first_s, "added_mib": added, "bits": checksums, "steady_us": steady}


def main() -> None:
    runs: dict[str, list[dict]] = {"numba": [], "llvmlite": []}
    here = str(Path(__file__).resolve())
    for r in range(ROUNDS):
        order = ("numba", "llvmlite") if r % 2 == 0 else ("llvmlite", "numba")
        for kind in order:
            out = subprocess.run(
                [sys.executable, here, "--worker", kind], capture_output=True, text=True, check=True
            )
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    ref = runs["numba"][0]["bits"]
    print("| kernel | first update, cold process | memory added | same bits as numba's | "
          + " | ".join(f"one call, {n:,} float32" for n in SIZES) + " |")  # fmt: skip
    print("|---|---:|---:|---|" + "---:|" * len(SIZES))
    for kind, rs in runs.items():
        first = statistics.median(x["first_s"] for x in rs)
        mem = statistics.median(x["added_mib"] for x in rs)
        same = "yes" if all(x["bits"] == ref for x in rs) else "**no**"
        calls = " | ".join(
            f"{statistics.median(x['steady_us'][str(n)] for x in rs):,.1f} µs" for n in SIZES
        )
        what = "gradstep's numba kernel (import, first update)" if kind == "numba" else (
            "the same loop through llvmlite (import, build, optimise, compile, first update)"
        )  # fmt: skip
        print(f"| {what} | {first * 1e3:,.0f} ms | +{mem:.0f} MiB | {same} | {calls} |")
    print(f"\nmedians of {ROUNDS} fresh processes per kernel, alternating.")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2])))
    else:
        main()
