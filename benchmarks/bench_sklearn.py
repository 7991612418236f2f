"""Fit time and accuracy of ``gradstep.sklearn.MLPClassifier`` against scikit-learn's
``MLPClassifier`` with the same hyperparameters, on digits and breast-cancer.

Each workload is one whole ``fit`` from scratch on a standardised 75 % training split (stratified,
seed 0), then the accuracy on the other 25 %. Both estimators get the same parameters (the defaults
unless the workload says otherwise, ``random_state=0``): with them gradstep follows scikit-learn's
initialisation, batch order, updates and stopping rule, so both run the same number of epochs.

As in ``common.py``, every measurement comes from a fresh worker process with 2 BLAS threads
(``--threads`` changes that), and the two systems alternate order every round; a worker fits once
to warm up, then times ``--fits`` fits and reports the median and the fastest. The table gives,
per workload, the median over rounds, the speed-up (scikit-learn's time / gradstep's, taken
within each round) with its range, the speed-up of the fastest fits (which a busy machine
disturbs less), the epochs run (``n_iter_``) and the test accuracy of each.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_sklearn.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import THREADS, _spawn, cpu_model, load_average

SYSTEMS = ("gradstep", "sklearn")


@dataclass(frozen=True)
class FitWorkload:
    """One dataset and the hyperparameters both estimators get."""

    name: str
    dataset: str
    params: dict = field(default_factory=dict)
    float32: bool = False

    def describe(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.params.items()) or "defaults"
        dtype = "float32" if self.float32 else "float64"
        return f"{self.dataset}, {dtype}, MLPClassifier({given}, random_state=0)"


WORKLOADS = [
    FitWorkload("digits-adam", "digits"),
    FitWorkload("breast-cancer-adam", "breast_cancer"),
    FitWorkload("digits-sgd", "digits", {"solver": "sgd", "learning_rate_init": 0.01}),
    FitWorkload(
        "breast-cancer-sgd", "breast_cancer", {"solver": "sgd", "learning_rate_init": 0.01}
    ),
    FitWorkload("digits-adam-float32", "digits", float32=True),
]


def _split(workload: FitWorkload):
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = getattr(datasets, f"load_{workload.dataset}")(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    if workload.float32:
        x_tr, x_te = x_tr.astype(np.float32), x_te.astype(np.float32)
    return x_tr, x_te, y_tr, y_te


def run_worker(workload: FitWorkload, system: str, fits: int, threads: int) -> dict:
    """Warm up with one fit, then time ``fits`` fits: the median and the fastest time, the
    epochs and the test accuracy."""
    import warnings

    from threadpoolctl import threadpool_limits

    if system == "gradstep":
        from gradstep.sklearn import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    threadpool_limits(threads)  # after the imports: it limits the BLAS libraries loaded by then
    x_tr, x_te, y_tr, y_te = _split(workload)
    times, est = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: both reach max_iter alike
        for i in range(fits + 1):
            est = MLPClassifier(random_state=0, **workload.params)
            t0 = time.perf_counter()
            est.fit(x_tr, y_tr)
            if i:
                times.append(time.perf_counter() - t0)
    return {
        "seconds": statistics.median(times),
        "best": min(times),
        "n_iter": int(est.n_iter_),
        "accuracy": float(est.score(x_te, y_te)),
    }


def render(chosen, results, rounds, fits, threads, load, info) -> str:
    head = (
        "| workload | gradstep s | sklearn s | speed-up (range) | speed-up, fastest fits "
        "| epochs | accuracy gs / sk |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for w in chosen:
        g, s = results[(w.name, "gradstep")], results[(w.name, "sklearn")]
        ratios = [b["seconds"] / a["seconds"] for a, b in zip(g, s)]
        gs_t = statistics.median(r["seconds"] for r in g)
        sk_t = statistics.median(r["seconds"] for r in s)
        ratio = f"**{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f})"
        fastest = min(b["best"] for b in s) / min(a["best"] for a in g)
        epochs = f"{g[-1]['n_iter']} / {s[-1]['n_iter']}"
        acc = f"{100 * g[-1]['accuracy']:.1f} % / {100 * s[-1]['accuracy']:.1f} %"
        lines.append(
            f"| {w.name} | {gs_t:.3f} | {sk_t:.3f} | {ratio} | {fastest:.2f}× | {epochs} | {acc} |"
        )
    lines.append("")
    lines += [f"- `{w.name}`: {w.describe()}" for w in chosen]
    lines += [
        "",
        f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); Python {info['python']}; NumPy "
        f"{info['numpy']}; scikit-learn {info['sklearn']}; BLAS: {info['blas']}",
        f"{threads} BLAS thread(s) per worker; load average {load}. Each cell: median over "
        f"{rounds} rounds of one fresh process's median over {fits} fits (after one warm-up "
        "fit); the speed-up is taken within each round (systems alternate order every round); "
        "the fastest-fits speed-up compares each system's fastest fit over all rounds.",
    ]
    return "\n".join(lines)


def _info() -> dict:
    import platform

    import numpy as np
    import sklearn
    import threadpoolctl

    blas = "; ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernel)"
        for p in threadpoolctl.threadpool_info()
        if p.get("user_api") == "blas"
    )
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "blas": blas,
    }


def main(argv=None) -> None:
    names = [w.name for w in WORKLOADS]
    p = argparse.ArgumentParser(description="gradstep.sklearn against scikit-learn: fit time.")
    p.add_argument("--worker", help="run one system in this process (internal)")
    p.add_argument("--workload", action="append", choices=names, help="only these (repeatable)")
    p.add_argument("--rounds", type=int, default=5, help="processes per system and workload")
    p.add_argument("--fits", type=int, default=3, help="timed fits per process")
    p.add_argument("--threads", type=int, default=THREADS, help="BLAS threads per worker")
    p.add_argument("--output", help="also write the markdown table to this file")
    args = p.parse_args(argv)
    if args.worker:
        if args.worker == "info":
            print(json.dumps(_info()))
            return
        w = {w.name: w for w in WORKLOADS}[args.workload[0]]
        print(json.dumps(run_worker(w, args.worker, args.fits, args.threads)))
        return
    chosen = [w for w in WORKLOADS if not args.workload or w.name in args.workload]
    script = os.path.abspath(__file__)
    load_start = load_average()
    info = _spawn(script, ["--worker", "info", "--workload", names[0]])
    results: dict = {}
    for r in range(args.rounds):
        for w in chosen:
            for s in SYSTEMS if r % 2 == 0 else SYSTEMS[::-1]:
                print(f"round {r + 1}/{args.rounds}: {w.name} [{s}]", file=sys.stderr, flush=True)
                wargs = ["--worker", s, "--workload", w.name, "--fits", str(args.fits)]
                wargs += ["--threads", str(args.threads)]
                results.setdefault((w.name, s), []).append(_spawn(script, wargs))
    load = f"{load_start} at the start, {load_average()} at the end"
    table = render(chosen, results, args.rounds, args.fits, args.threads, load, info)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n")


if __name__ == "__main__":
    main()
