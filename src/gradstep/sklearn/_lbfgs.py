"""The "lbfgs" solver: the engine's loss and gradient over the whole training set, handed to
SciPy's L-BFGS-B as scikit-learn does (``maxiter=max_iter``, ``maxfun=max_fun``, ``gtol=tol``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.optimize

from ..tensor import Tensor
from ._losses import Objective
from ._optim import FlatParameter

__all__ = ["fit_lbfgs"]


def fit_lbfgs(
    module: Any,
    objective: Objective,
    flat: FlatParameter,
    x: np.ndarray,
    targets: np.ndarray,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
) -> tuple[int, float]:
    """Minimise the objective over the flat parameters, leaving the minimiser in the network;
    returns (iterations, final loss) and warns (ConvergenceWarning) when L-BFGS-B did not
    converge, as scikit-learn does."""
    from sklearn.exceptions import ConvergenceWarning

    xt = Tensor._make(x)

    def loss_and_grad(v: np.ndarray) -> tuple[float, np.ndarray]:
        flat.data[...] = v
        flat.grad = None
        loss = objective(module(xt), targets)
        loss.backward()
        return float(loss.data), flat.grad.astype(np.float64)

    module.train()
    with np.errstate(over="ignore", invalid="ignore"):
        res = scipy.optimize.minimize(
            loss_and_grad,
            flat.data.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    flat.data[...] = res.x
    if res.status != 0:
        msg = res.message.decode("latin1") if isinstance(res.message, bytes) else res.message
        warnings.warn(
            f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}): "
            f"{msg}. Increase max_iter (or max_fun), or scale the data (StandardScaler).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return min(int(res.nit), max_iter), float(res.fun)
