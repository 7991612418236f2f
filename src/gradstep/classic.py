"""The textbook backpropagation algorithm with every δ term explicit: a teaching twin of the engine.

A feed-forward network of sigmoid units trained one sample at a time on the squared error, exactly
as the classic derivation writes it (symbols as in that derivation; η is ``learning_rate``):

- unit j of a layer sees inputs x_ji (the previous layer's outputs) plus a constant x_j0 = 1, whose
  weight w_j0 is the unit's bias; net_j = Σ_i w_ji·x_ji and o_j = σ(net_j) = 1 / (1 + e^(−net_j));
- the error on one sample is E = ½·Σ_k (t_k − o_k)² over the output units k;
- output unit k: δ_k = o_k·(1 − o_k)·(t_k − o_k);
- hidden unit h: δ_h = o_h·(1 − o_h)·Σ_k w_kh·δ_k, over the units k of the next layer, with the
  weights as they were before this sample's update;
- every weight: w_ji ← w_ji + Δw_ji with Δw_ji = η·δ_j·x_ji (δ_j = −∂E/∂net_j, so this is gradient
  descent on E with step η).

All arithmetic is float64 NumPy. The engine (``gs.nn`` + ``gs.optim.SGD`` with ``SSELoss`` and batch
size 1) computes the same numbers; the tests check both against each other and against PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ClassicHistory", "ClassicNetwork", "StepTrace", "sigmoid"]


def sigmoid(net: np.ndarray) -> np.ndarray:
    """σ(net) = 1 / (1 + e^(−net)), elementwise; saturates to 0 or 1 without warnings."""
    with np.errstate(over="ignore"):
        return _sigmoid(net)


def _sigmoid(net: np.ndarray) -> np.ndarray:
    # callers silence the overflow of e^(−net) for very negative net (σ is then exactly 0)
    return 1.0 / (1.0 + np.exp(-net))


@dataclass(frozen=True)
class StepTrace:
    """Everything one per-sample update computed, layer by layer (index l = 0 is the first layer).

    ``inputs[l]`` is the input vector of layer l with the constant x_0 = 1 in front (shape
    (n_in + 1,)), so ``weight_changes[l] == η · outer(deltas[l], inputs[l])``. ``outputs[l]``
    holds the outputs o of layer l, ``deltas[l]`` the δ of its units, and ``error`` is
    E = ½·Σ_k (t_k − o_k)² before the update.
    """

    x: np.ndarray
    target: np.ndarray
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    deltas: list[np.ndarray]
    weight_changes: list[np.ndarray]
    error: float


@dataclass
class ClassicHistory:
    """What :meth:`ClassicNetwork.fit` did, one entry per epoch.

    ``error[e]`` is E summed over all samples and ``max_error[e]`` is max |t − o| over every sample
    and output, both measured with the weights at the end of epoch e. ``stopped_by`` is
    ``"tolerance"`` or ``"epochs"``; ``traces`` holds one :class:`StepTrace` per update when
    ``fit(trace=True)``.
    """

    error: list[float] = field(default_factory=list)
    max_error: list[float] = field(default_factory=list)
    epochs: int = 0
    stopped_by: str = "epochs"
    traces: list[StepTrace] = field(default_factory=list)

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras-style ``{"error": [...], "max_error": [...]}``."""
        return {"error": self.error, "max_error": self.max_error}


class ClassicNetwork:
    """Layers of sigmoid units trained by per-sample backpropagation with explicit δ terms.

    ``sizes`` lists the units per layer, inputs first: ``[2, 3, 1]`` is 2 inputs, 3 hidden units and
    1 output. ``learning_rate`` is η in Δw_ji = η·δ_j·x_ji. Weights start uniform in
    [−init_range, init_range), drawn from ``np.random.default_rng(seed)`` (which also shuffles).

    ``weights[l]`` is layer l's matrix of shape (n_out, n_in + 1): row j holds unit j's weights, and
    column 0 is its bias weight w_j0 (on the constant input x_0 = 1), so that column i is w_ji.
    :meth:`layer_weights` gives the PyTorch ``Linear`` split (weight (out, in), bias (out,)).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        learning_rate: float = 0.05,
        seed: int | None = 0,
        init_range: float = 0.05,
    ) -> None:
        if (
            isinstance(sizes, (str, bytes))
            or not isinstance(sizes, Sequence)
            or len(sizes) < 2
            or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes)
            or min(sizes) < 1
        ):
            raise ValueError(
                f"sizes must list at least two positive unit counts, inputs first, got {sizes!r}; "
                "pass e.g. [2, 3, 1]."
            )
        _check_number("learning_rate", learning_rate, "a non-negative learning rate η such as 0.5")
        _check_number("init_range", init_range, "a non-negative half-width such as 0.05")
        self.sizes: tuple[int, ...] = tuple(int(n) for n in sizes)
        self.learning_rate = float(learning_rate)
        self.init_range = float(init_range)
        self._rng = np.random.default_rng(seed)
        r = self.init_range
        self.weights: list[np.ndarray] = [
            self._rng.uniform(-r, r, size=(n_out, n_in + 1))
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])
        ]

    def __repr__(self) -> str:
        return f"ClassicNetwork(sizes={list(self.sizes)}, learning_rate={self.learning_rate})"

    @property
    def n_layers(self) -> int:
        """The number of weight layers (hidden layers + the output layer)."""
        return len(self.weights)

    # ------------------------------------------------------------------------------- weights

    def layer_weights(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``layer``'s weights split as PyTorch's ``Linear`` holds them, as copies.

        Returns (W without the bias column, shape (out, in); the bias weights w_j0, shape (out,)).
        """
        if not isinstance(layer, (int, np.integer)) or not -self.n_layers <= layer < self.n_layers:
            raise IndexError(
                f"layer must be an index in [0, {self.n_layers}), got {layer!r}; this network has "
                f"{self.n_layers} weight layers."
            )
        w = self.weights[layer]
        return w[:, 1:].copy(), w[:, 0].copy()

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace every layer's (n_out, n_in + 1) matrix (column 0 the bias weight) with copies."""
        if len(weights) != self.n_layers:
            raise ValueError(
                f"weights must hold {self.n_layers} matrices (one per layer), got {len(weights)}."
            )
        new = []
        for l, (w, old) in enumerate(zip(weights, self.weights)):
            w = np.array(w, dtype=np.float64)
            if w.shape != old.shape:
                raise ValueError(
                    f"weights[{l}] must have shape {old.shape} (n_out, n_in + 1 with the bias in "
                    f"column 0), got {w.shape}."
                )
            if not np.isfinite(w).all():
                raise ValueError(f"weights[{l}] contains NaN or Inf; pass finite weights.")
            new.append(w)
        self.weights = new

    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights named as in ``torch.nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, ...)``.

        Layer l becomes ``"{2l}.weight"`` (out, in) and ``"{2l}.bias"`` (out,), so PyTorch's
        ``load_state_dict`` (or ``gs.save`` then PyTorch) takes them.
        """
        out: dict[str, np.ndarray] = {}
        for l in range(self.n_layers):
            out[f"{2 * l}.weight"], out[f"{2 * l}.bias"] = self.layer_weights(l)
        return out

    # ------------------------------------------------------------------------------ forward

    def forward(self, x: Any) -> list[np.ndarray]:
        """The outputs o of every layer for one sample ``x`` of shape (n_in,); the last is o_k."""
        x = self._check_sample(x, "x", self.sizes[0])
        with np.errstate(over="ignore"):
            return self._forward(x)

    def predict(self, X: Any) -> np.ndarray:
        """Network outputs for a batch ``X`` (n_samples, n_in), shape (n_samples, n_out)."""
        X = self._check_batch(X, "X", self.sizes[0])
        with np.errstate(over="ignore"):
            return self._predict(X)

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        outputs = []
        for w in self.weights:
            x = _sigmoid(w[:, 0] + w[:, 1:] @ x)
            outputs.append(x)
        return outputs

    def _predict(self, X: np.ndarray) -> np.ndarray:
        for w in self.weights:
            X = _sigmoid(X @ w[:, 1:].T + w[:, 0])
        return X

    # ----------------------------------------------------------------------------- training

    def train_sample(self, x: Any, t: Any, trace: bool = False) -> StepTrace | None:
        """One backpropagation update on sample ``x``, target ``t``; a :class:`StepTrace` if asked.

        Computes every δ first (δ_k = o_k(1 − o_k)(t_k − o_k) at the outputs, δ_h = o_h(1 − o_h)·
        Σ_k w_kh δ_k below), then applies w_ji += η·δ_j·x_ji to every layer (η = learning_rate).
        """
        x = self._check_sample(x, "x", self.sizes[0])
        t = self._check_targets(self._check_sample(t, "t", self.sizes[-1]), "t")
        with np.errstate(over="ignore"):
            return self._step(x, t, trace)

    def _step(self, x: np.ndarray, t: np.ndarray, trace: bool) -> StepTrace | None:
        outputs = self._forward(x)
        layer_inputs = [x, *outputs[:-1]]
        o = outputs[-1]
        deltas = [o * (1.0 - o) * (t - o)]  # δ_k at the outputs
        for l in range(self.n_layers - 2, -1, -1):
            h = outputs[l]
            downstream = self.weights[l + 1][:, 1:].T @ deltas[0]  # Σ_k w_kh δ_k
            deltas.insert(0, h * (1.0 - h) * downstream)
        eta = self.learning_rate
        if not trace:
            for w, d, xin in zip(self.weights, deltas, layer_inputs):
                step = eta * d
                w[:, 0] += step  # x_0 = 1
                w[:, 1:] += step[:, None] * xin
            return None
        inputs = [np.concatenate(([1.0], xin)) for xin in layer_inputs]
        changes = [(eta * d)[:, None] * xin for d, xin in zip(deltas, inputs)]
        for w, dw in zip(self.weights, changes):
            w += dw
        return StepTrace(
            x=x.copy(),
            target=t.copy(),
            inputs=inputs,
            outputs=outputs,
            deltas=deltas,
            weight_changes=changes,
            error=0.5 * float(np.sum((t - o) ** 2)),
        )

    def fit(
        self,
        X: Any,
        T: Any,
        epochs: int = 1000,
        tolerance: float | None = None,
        trace: bool = False,
        shuffle: bool = False,
    ) -> ClassicHistory:
        """Run per-sample updates over ``X`` (n_samples, n_in) and targets ``T`` (n_samples, n_out).

        Each epoch visits every sample once, in order (or in a seeded random order when
        ``shuffle``), and calls :meth:`train_sample`. After each epoch the largest error
        max |t − o| over every sample and output is measured; training stops when it falls under
        ``tolerance``, or after ``epochs`` epochs. Targets must lie in [0, 1], like sigmoid outputs.
        """
        X = self._check_batch(X, "X", self.sizes[0])
        T = np.asarray(T)
        if T.ndim == 1 and self.sizes[-1] == 1:
            T = T.reshape(-1, 1)
        T = self._check_targets(self._check_batch(T, "T", self.sizes[-1]), "T")
        if len(X) != len(T):
            raise ValueError(
                f"X has {len(X)} samples but T has {len(T)}; pass one target row per sample."
            )
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
        if tolerance is not None and not (
            isinstance(tolerance, (int, float, np.integer, np.floating))
            and not isinstance(tolerance, bool)
            and math.isfinite(tolerance)
            and tolerance > 0
        ):
            raise ValueError(
                f"tolerance must be a positive number or None, got {tolerance!r}; pass e.g. 0.1."
            )
        history = ClassicHistory()
        with np.errstate(over="ignore"):
            self._run(X, T, int(epochs), tolerance, trace, shuffle, history)
        return history

    def _run(
        self,
        X: np.ndarray,
        T: np.ndarray,
        epochs: int,
        tolerance: float | None,
        trace: bool,
        shuffle: bool,
        history: ClassicHistory,
    ) -> None:
        for _ in range(epochs):
            order = self._rng.permutation(len(X)) if shuffle else range(len(X))
            for i in order:
                step = self._step(X[i], T[i], trace)
                if step is not None:
                    history.traces.append(step)
            diff = T - self._predict(X)
            history.error.append(0.5 * float(np.sum(diff**2)))
            history.max_error.append(float(np.max(np.abs(diff))))
            history.epochs += 1
            if tolerance is not None and history.max_error[-1] < tolerance:
                history.stopped_by = "tolerance"
                return

    # --------------------------------------------------------------------------- validation

    def _check_sample(self, v: Any, name: str, n: int) -> np.ndarray:
        v = _as_float64(v, name)
        if v.ndim == 0 and n == 1:
            v = v.reshape(1)
        if v.shape != (n,):
            raise ValueError(
                f"{name} must have shape ({n},) for network sizes {list(self.sizes)}, got "
                f"{v.shape}; pass one sample as a 1-D array."
            )
        return v

    def _check_batch(self, v: Any, name: str, n: int) -> np.ndarray:
        v = _as_float64(v, name)
        if v.ndim != 2 or v.shape[1] != n or v.shape[0] < 1:
            raise ValueError(
                f"{name} must have shape (n_samples, {n}) for network sizes {list(self.sizes)}, "
                f"got {v.shape}; pass a 2-D array (one sample: {name}.reshape(1, -1))."
            )
        return v

    @staticmethod
    def _check_targets(t: np.ndarray, name: str) -> np.ndarray:
        if t.min() < 0.0 or t.max() > 1.0:
            raise ValueError(
                f"{name} has targets outside [0, 1] (min {t.min():g}, max {t.max():g}), which "
                "sigmoid outputs cannot reach; scale them into [0, 1] (e.g. 0.1 and 0.9 for "
                "classes)."
            )
        return t


def _as_float64(v: Any, name: str) -> np.ndarray:
    try:
        a = np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be numeric array-like, got {type(v).__name__}; pass a NumPy array."
        ) from None
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or Inf; clean the data before training.")
    return a


def _check_number(name: str, value: Any, what: str) -> None:
    if (
        not isinstance(value, (int, float, np.integer, np.floating))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}; pass {what}.")
