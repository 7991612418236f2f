"""Worker side of the suite: one job, one system, in this process; prints what it measured.

``run_job(job, system, settings)`` imports only the system's own framework (gradstep, torch,
jax + optax, scikit-learn or bare NumPy), notes the peak RSS after that import, builds the
workload from the shared initial weights (``suite_nets``), runs the correctness guard (the
losses of the first training steps, or a checksum of the parameters after the first optimizer
steps), then times it. The result is a JSON-able dict; the parent compares and tabulates.

Jobs: ``W1``–``W4`` (one full training step), ``W5``/``W6`` (the MNIST-1D recipes, one seed),
``digits-epoch`` (one epoch on digits: gradstep's Trainer, its hand-written loop, scikit-learn),
``OPT-<name>`` (one optimizer step on 1M parameters), ``info`` and ``prep`` (the data files).
"""

from __future__ import annotations

import gc
import importlib.metadata
import resource
import time
import warnings
from collections.abc import Callable

from common import THREADS, environment_info, time_iterations
from suite_nets import (
    FLATTEN,
    MNIST1D_CNN,
    MNIST1D_MLP,
    OPT_CONFIGS,
    OPT_SHAPES,
    STEPS,
    as_system_arrays,
    batch,
    init_state,
    training,
)

GUARD_STEPS = 4
RECIPE = {"lr": 1e-2, "batch": 100}  # Greydanus (2020): Adam 1e-2, batches of 100 in data order


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _import_framework(system: str) -> float:
    """Load the system's framework (and NumPy), fix its threads; the peak RSS after it, MiB."""
    import numpy  # noqa: F401  (every worker uses it; part of the baseline)

    if system.startswith("gradstep"):
        import gradstep  # noqa: F401
    elif system == "torch":
        import torch

        torch.set_num_threads(THREADS)
    elif system == "jax":
        import jax  # noqa: F401
        import optax  # noqa: F401
    elif system == "sklearn":
        import sklearn.neural_network  # noqa: F401
    return _peak_rss_mib()


def _capture(train_step: Callable, x, y) -> Callable:
    """gradstep's recorded step of ``train_step`` (the gradstep-capture system)."""
    import gradstep as gs

    return gs.capture(train_step, x, y)


def _loss_value(loss) -> float:
    return float(loss.item())


# -- W1–W4: one full training step ------------------------------------------------------------
def step_job(job: str, system: str, settings: dict) -> dict:
    """Guard (the first losses), then time one step on the fixed batch."""
    spec = STEPS[job]
    x, y = batch(spec)
    if system == "numpy":
        return _sgemm(spec, x, y, settings)
    engine = "gradstep" if system == "gradstep-capture" else system
    _, train_step = training(engine, spec.net, spec.optimizer, spec.lr, seed=0)
    xs, ys = as_system_arrays(system, x, y)
    run = _capture(train_step, xs, ys) if system == "gradstep-capture" else train_step

    def step():
        return run(xs, ys)

    guard = [_loss_value(step()) for _ in range(GUARD_STEPS)]
    gc.collect()
    result = time_iterations(step, settings["seconds"], settings["min_blocks"])
    result["guard"] = guard
    return result


def _sgemm(spec, x, y, settings: dict) -> dict:
    """W4's yardstick: NumPy's 2048×2048 sgemm rate, and the float64 loss at the initial weights
    (the guard for gradstep's first step)."""
    import numpy as np

    state = init_state(spec.net, seed=0)
    h = x.astype(np.float64)
    for i, (name, _) in enumerate(spec.net.weights):
        if i:
            h = np.maximum(h, 0.0)
        h = h @ state[f"{name}.weight"].astype(np.float64).T + state[f"{name}.bias"]
    shifted = h - h.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    reference = float(-log_p[np.arange(len(y)), y].mean())
    rng = np.random.default_rng(0)
    n = 2048
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    gc.collect()
    result = time_iterations(
        lambda: np.matmul(a, b, out=out), settings["seconds"], settings["min_blocks"]
    )
    result["gflops"] = 2 * n**3 / result["median_us"] / 1e3
    result["guard"] = [reference]
    return result


# -- W5/W6: the MNIST-1D recipes ---------------------------------------------------------------
def recipe_job(job: str, system: str, settings: dict) -> dict:
    """Train for ``recipe_steps`` steps in the paper's batch order, then the test accuracy.

    The time covers everything training needs once the data is in memory: building the batches'
    tensors is outside it, the first call (JAX's compilation, gradstep's capture) inside.
    """
    import numpy as np

    net = MNIST1D_MLP if job == "W5" else MNIST1D_CNN
    with np.load(settings["data"]) as data:
        x, y, x_test, y_test = (data[k] for k in ("x", "y", "x_test", "y_test"))
    if net is MNIST1D_CNN:
        x, x_test = x.reshape(-1, 1, 40), x_test.reshape(-1, 1, 40)
    engine = "gradstep" if system == "gradstep-capture" else system
    predict, train_step = training(engine, net, "adam", RECIPE["lr"], settings["seed"])
    b = RECIPE["batch"]
    batches = [as_system_arrays(system, x[i : i + b], y[i : i + b]) for i in range(0, len(x), b)]
    before = predict(x[:b])
    gc.collect()
    t0 = time.perf_counter()
    run, first = train_step, 0
    if system == "gradstep-capture":
        run = _capture(train_step, *batches[0])
        first = int(not np.array_equal(before, predict(x[:b])))  # recording took step 0
    guard = []
    for s in range(first, settings["recipe_steps"]):
        loss = run(*batches[s % len(batches)])
        if s < GUARD_STEPS:
            guard.append(_loss_value(loss))
    seconds = time.perf_counter() - t0
    accuracy = float((predict(x_test).argmax(axis=1) == y_test).mean())
    return {"seconds": seconds, "accuracy": accuracy, "steps": s + 1, "guard": guard}


# -- W2 against scikit-learn, W7: one epoch on digits -------------------------------------------
def epoch_job(system: str, settings: dict) -> dict:
    """One epoch on digits: bench_fit's Trainer, the same epoch as a hand-written loop, or
    scikit-learn's ``partial_fit`` with the same sizes (64-128-64-10, adam, batch 16)."""
    if system == "sklearn":
        step = _sklearn_epoch(settings["data"])
    elif system == "gradstep-fit":
        from bench_fit import build_trainer

        step = build_trainer()
    else:
        step = _hand_loop_epoch()
    gc.collect()
    return time_iterations(step, settings["seconds"], settings["min_blocks"])


def _hand_loop_epoch() -> Callable[[], object]:
    """bench_fit's hand-written loop, with the parameters laid out as the Trainer lays them
    (flat buffers, ``suite_nets.FLATTEN``), so that W7 measures the Trainer's own overhead."""
    import numpy as np
    from bench_fit import BATCH, _data

    import gradstep as gs
    from gradstep import nn, optim

    x, y = _data()
    gs.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    if FLATTEN and hasattr(model, "flatten_parameters"):
        model.flatten_parameters()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss_fn(model(gs.tensor(x[idx])), gs.tensor(y[idx])).backward()
            opt.step()

    return epoch


def _sklearn_epoch(path: str) -> Callable[[], object]:

    import numpy as np
    from bench_fit import BATCH
    from sklearn.neural_network import MLPClassifier

    with np.load(path) as data:
        x, y = data["digits_x"], data["digits_y"]
    clf = MLPClassifier(
        hidden_layer_sizes=(128, 64),
        solver="adam",
        batch_size=BATCH,
        learning_rate_init=1e-3,
        alpha=0.0,
        shuffle=True,
        random_state=0,
    )
    classes = np.unique(y)

    def epoch():
        clf.partial_fit(x, y, classes=classes)

    return epoch


# -- OPT: optimizer step() on 1M parameters -----------------------------------------------------
def optimizer_job(name: str, system: str, settings: dict) -> dict:
    """bench_optim's 1M-parameter model with fixed gradients; torch single-tensor
    (``foreach=False``); gradstep's parameters flat as a model's (``suite_nets.FLATTEN``), their
    gradients written by a backward pass as in training."""
    import numpy as np

    rng = np.random.default_rng(0)
    init = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in OPT_SHAPES]
    grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in OPT_SHAPES]
    if system == "gradstep":
        import gradstep as gs

        params = [gs.tensor(a, requires_grad=True) for a in init]
        if FLATTEN and hasattr(gs.nn, "flatten_parameters"):
            gs.nn.flatten_parameters(params)
        sum(((p * gs.tensor(g)).sum() for p, g in zip(params, grads)), gs.tensor(0.0)).backward()
        opt = getattr(gs.optim, name)(params, **OPT_CONFIGS[name])

        def checksum() -> float:
            return float(sum(np.square(p.data, dtype=np.float64).sum() for p in params))
    else:
        import torch

        params = [torch.tensor(a, requires_grad=True) for a in init]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g)
        opt = getattr(torch.optim, name)(params, foreach=False, **OPT_CONFIGS[name])

        def checksum() -> float:
            return float(sum(p.detach().double().square().sum() for p in params))

    guard = []
    for _ in range(GUARD_STEPS):
        opt.step()
        guard.append(checksum())
    gc.collect()
    result = time_iterations(opt.step, settings["seconds"], settings["min_blocks"])
    result["guard"] = guard
    return result


# -- set-up jobs --------------------------------------------------------------------------------
def info_job() -> dict:
    """Versions, BLAS kernels and thread pools as a worker sees them; whether gs.capture exists."""
    import gradstep

    info = environment_info()
    info["gradstep_capture"] = hasattr(gradstep, "capture")
    for package in ("jax", "optax", "scikit-learn", "mnist1d"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = None
    return info


def prep_job(path: str) -> dict:
    """Write the recipes' MNIST-1D arrays and the digits training split to ``path`` (.npz), so
    that no PyTorch, JAX or scikit-learn worker has to import gradstep to read them."""
    import numpy as np

    from gradstep.data import datasets
    from gradstep.data.datasets.mnist1d import generate_mnist1d

    arrays = dict(generate_mnist1d())
    digits_x, digits_y = datasets.load("digits").train.arrays
    np.savez(path, **arrays, digits_x=digits_x, digits_y=digits_y)
    return {"n_train": int(len(arrays["x"])), "n_test": int(len(arrays["x_test"]))}


# Jobs timed from the first step: the kernels load as in a user's run (see optim/kernels.py).
TIMED_FROM_FIRST_STEP = ("W5", "W6")


def run_job(job: str, system: str, settings: dict) -> dict:
    """Dispatch one job; adds the peak RSS above the post-import baseline (MiB)."""
    if job == "info":
        return info_job()
    if job == "prep":
        return prep_job(settings["data"])
    baseline = _import_framework(system)
    if system.startswith("gradstep") and job not in TIMED_FROM_FIRST_STEP:
        from gradstep.optim import kernels

        kernels.preload()  # steady steps, as a long run has them (recipes load as users get it)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if job in STEPS:
            result = step_job(job, system, settings)
        elif job in ("W5", "W6"):
            result = recipe_job(job, system, settings)
        elif job == "digits-epoch":
            result = epoch_job(system, settings)
        elif job.startswith("OPT-"):
            result = optimizer_job(job[4:], system, settings)
        else:
            raise ValueError(f"unknown suite job {job!r}; see suite_rows.ROWS for the jobs.")
    result["rss_mib"] = _peak_rss_mib() - baseline
    if system == "gradstep-capture":  # a fallback to eager steps belongs in the table's notes
        result["warnings"] = sorted({str(w.message)[:300] for w in caught})
    return result
