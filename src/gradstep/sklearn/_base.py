"""What every gradstep estimator shares: parameters, fit / partial_fit on the Trainer, the
network's outputs, pickling.

A fit validates the data as scikit-learn's MLP does, builds (first fit) or keeps (``warm_start``,
``partial_fit``) the network, and trains it with ``gs.Trainer``: batches in scikit-learn's order
(:mod:`._data`), its loss (:mod:`._losses`), its optimizers on a flat parameter buffer
(:mod:`._optim`) and its end-of-epoch rules as callbacks (:mod:`._callbacks`); "lbfgs" hands the
engine's loss and gradient to SciPy (:mod:`._lbfgs`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor
from ..train.trainer import Trainer
from ._callbacks import EpochRules, Validation, Warmup
from ._data import EpochLoader, batch_size_for, pack_targets
from ._lbfgs import fit_lbfgs
from ._losses import Objective
from ._network import penalized_parameters
from ._optim import FlatParameter, make_optimizer, trainable
from ._params import check_common

__all__ = ["BaseNeuralNet"]


class BaseNeuralNet(BaseEstimator):
    """Base of the estimators (not for direct use): subclasses give ``__init__``, the network
    (``_build_module``, ``_layer_plan``) and the targets (``_encode_targets``,
    ``_make_loss_spec``, ``_score_targets``, ``_score_outputs``)."""

    _prefixes: tuple[str, ...] = ("optimizer__",)

    # -- parameters ----------------------------------------------------------------------------
    def _store_prefixed(self, kwargs: dict[str, Any]) -> None:
        """Keep ``optimizer__*`` / ``module__*`` arguments as attributes; anything else is kept
        aside and reported by ``fit`` (a constructor never raises)."""
        for key, value in kwargs.items():
            if key.startswith(self._prefixes) and key not in self._prefixes:
                setattr(self, key, value)
            else:
                vars(self).setdefault("_unexpected_params", []).append(key)

    def _check_unexpected(self) -> None:
        keys = vars(self).get("_unexpected_params")
        if keys:
            allowed = " or ".join(f"{p}<name>" for p in self._prefixes)
            raise TypeError(
                f"{type(self).__name__} got unexpected parameters {keys}; arguments of the "
                f"optimizer (or module) are passed as {allowed}."
            )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, ``optimizer__*`` (and ``module__*``) ones included."""
        params = super().get_params(deep=deep)
        params.update({k: v for k, v in vars(self).items() if k.startswith(self._prefixes)})
        return params

    def set_params(self, **params: Any) -> BaseNeuralNet:
        """Set parameters (``optimizer__lr_decay=...``, ``module__width=...`` included)."""
        plain = {}
        for key, value in params.items():
            if key.startswith(self._prefixes) and key not in self._prefixes:
                setattr(self, key, value)
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)
        return self

    def _prefixed(self, prefix: str) -> dict[str, Any]:
        return {k[len(prefix) :]: v for k, v in vars(self).items() if k.startswith(prefix)}

    def _check_solver(self) -> bool:
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. lbfgs is not stochastic."
            )
        return True

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseNeuralNet:
        """Train on (X, y) — from a fresh network, or from the current one with ``warm_start``;
        ``sample_weight`` weighs each sample's loss (Σ wᵢ·lᵢ / Σ wᵢ per batch)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> BaseNeuralNet:
        self._check_unexpected()
        check_common(self)
        self._layer_plan()
        first = not hasattr(self, "module_") or (not self.warm_start and not incremental)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=not is_classifier(self),
            dtype=(np.float64, np.float32),
            reset=first,
        )
        if sp.issparse(X):
            X = X.toarray()
        Y, labels = self._encode_targets(y, incremental, first)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        w = self._with_class_weight(w, labels, incremental)
        random_state = check_random_state(self.random_state)
        if first:
            self._initialize(X, Y.shape[1], random_state)
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs but the network was fitted with {self.n_outputs_}; "
                "fit without warm_start to start over."
            )
        X = X.astype(self._dtype, copy=False)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, w)
        else:
            self._fit_stochastic(X, Y, w, random_state, incremental)
        if not all(np.isfinite(p.data).all() for p in self.module_.parameters()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                "values and need to be preprocessed."
            )
        return self

    def _with_class_weight(self, w: Any, labels: Any, incremental: bool) -> Any:
        return w

    def _initialize(self, X: np.ndarray, n_outputs: int, random_state: Any) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = n_outputs
        self._loss_spec = self._make_loss_spec()
        self.out_activation_ = self._loss_spec.out_activation
        self._dtype = X.dtype
        with self._engine_rng(random_state, new=True):
            self.module_ = self._build_module(X.shape[1], n_outputs, X.dtype, random_state)
            self._check_output_width(X[:2], n_outputs)
        self._trainer: Trainer | None = None
        self._optimizer_state: dict | None = None
        self._best_state = {k: np.array(v) for k, v in self.module_.state_dict().items()}
        if self.solver != "lbfgs":
            self._records(fresh=True)

    def _records(self, fresh: bool = False) -> None:
        """scikit-learn's records of the stochastic solvers: ``loss_curve_``, ``best_loss_`` (None
        with early stopping), ``validation_scores_`` and ``best_validation_score_`` (None
        without): new for a fresh network, carried on by warm starts and ``partial_fit``."""
        if fresh or not hasattr(self, "loss_curve_"):
            self.loss_curve_: list[float] = []
            self._no_improvement_count = 0
            self.validation_scores_: list[float] | None = None
            self.validation_loss_curve_: list[float] | None = None
            self.best_validation_score_: float | None = None
            self.best_loss_: float | None = None
        if self.early_stopping:
            if self.validation_scores_ is None:
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        elif self.best_loss_ is None:
            self.best_loss_ = np.inf

    def _check_output_width(self, x: np.ndarray, n_outputs: int) -> None:
        out = self._raw_outputs(x.astype(self._dtype, copy=False))
        if out.ndim != 2 or out.shape[1] != n_outputs:
            raise ValueError(
                f"the module outputs shape {out.shape[1:]} per sample but these targets need "
                f"{n_outputs} output(s) (1 for binary classes, one per class otherwise); give its "
                "last layer that many outputs."
            )

    @contextlib.contextmanager
    def _engine_rng(self, random_state: Any = None, new: bool = False) -> Iterator[None]:
        """Run with the engine's generator (dropout, a module's own initialisation) set to this
        estimator's, seeded from ``random_state`` on the first fit and carried on after."""
        if new:
            rs = self.random_state
            if rs is None or isinstance(rs, np.random.RandomState):
                seed = int(check_random_state(rs).randint(np.iinfo(np.int32).max))
            else:
                seed = int(rs)
            self._rng_state = np.random.default_rng(seed).bit_generator.state
        saved = _random.get_rng_state()
        _random.set_rng_state(self._rng_state)
        try:
            yield
        finally:
            self._rng_state = _random.get_rng_state()
            _random.set_rng_state(saved)

    def _new_trainer(self, objective: Objective) -> Trainer:
        flat = FlatParameter(trainable(self.module_))
        opt = make_optimizer(
            self.solver,
            [flat],
            learning_rate_init=self.learning_rate_init,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            extra=self._prefixed("optimizer__"),
        )
        self._lr = float(self.learning_rate_init)
        return Trainer(self.module_, objective, opt, metrics=[])

    def _objective(self, weighted: bool) -> Objective:
        return Objective(
            self._loss_spec,
            self.n_outputs_,
            weighted,
            self.alpha,
            penalized_parameters(self.module_),
        )

    def _fit_lbfgs(self, X: np.ndarray, Y: np.ndarray, w: Any) -> None:
        objective = self._objective(w is not None)
        flat = FlatParameter(trainable(self.module_))
        with self._engine_rng():
            self.n_iter_, self.loss_ = fit_lbfgs(
                self.module_,
                objective,
                flat,
                X,
                pack_targets(Y, w, self._dtype),
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
            )

    def _fit_stochastic(
        self, X: np.ndarray, Y: np.ndarray, w: Any, random_state: Any, incremental: bool
    ) -> None:
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        self._records()
        objective = self._objective(w is not None)
        trainer = self._trainer if incremental else None
        if trainer is None:
            trainer = self._new_trainer(objective)
            if incremental and self._optimizer_state is not None:  # unpickled: carry on
                trainer.optimizer.load_state_dict(self._optimizer_state)
                trainer.global_step = self._trainer_steps
                self._lr = self._saved_lr
        trainer.loss_fn = objective
        validation = None
        if self.early_stopping:
            X, Y, w, validation = self._split(X, Y, w, random_state)
        targets = pack_targets(Y, w, self._dtype)
        n = X.shape[0]
        loader = EpochLoader(
            X, targets, batch_size_for(self.batch_size, n), self.shuffle, random_state
        )
        rules = EpochRules(self, n, validation)
        callbacks: list[Any] = [rules]
        if self.warmup:
            callbacks.append(Warmup(self, int(self.warmup)))
        self.n_iter_ = 0
        self._trainer = trainer
        with self._engine_rng():
            trainer.fit(
                loader, epochs=1 if incremental else self.max_iter, verbose=0, callbacks=callbacks
            )
        if trainer.diverged:
            raise ValueError(
                f"training diverged: {trainer.stop_reason}. Scale X (StandardScaler) or lower "
                "learning_rate_init."
            )
        if self.early_stopping:
            self.module_.load_state_dict(self._best_state)
        if not incremental and not rules.stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _split(self, X: np.ndarray, Y: np.ndarray, w: Any, random_state: Any) -> tuple:
        """scikit-learn's early-stopping split: ``train_test_split`` with the fit's random state,
        stratified only for single-output classification (binary), as scikit-learn does."""
        stratify = Y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, Y) if w is None else (X, Y, w)
        parts = train_test_split(
            *arrays,
            random_state=random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_tr, X_val, Y_tr, Y_val = parts[:4]
        w_tr, w_val = (parts[4], parts[5]) if w is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of "
                "your dataset."
            )
        targets = Y_val.astype(self._dtype)
        return X_tr, Y_tr, w_tr, Validation(X_val, self._score_targets(Y_val), targets, w_val)

    # -- outputs -------------------------------------------------------------------------------
    def _raw_outputs(self, X: np.ndarray) -> np.ndarray:
        module = self.module_
        was = module.training
        module.eval()
        try:
            with no_grad():
                return module(Tensor._make(X)).data
        finally:
            module.train(was)

    def _network_outputs(self, X: np.ndarray) -> np.ndarray:
        """The output layer's activations (probabilities, predictions) for checked inputs."""
        return self._loss_spec.link(self._raw_outputs(X))

    def _checked_inputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        if sp.issparse(X):
            X = X.toarray()
        return X.astype(self._dtype, copy=False)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- pickling ------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Picklable state: the Trainer is dropped, its optimizer state kept, so that
        ``partial_fit`` after unpickling goes on where training stopped."""
        state = super().__getstate__()
        trainer = state.pop("_trainer", None)
        if trainer is not None:
            state["_optimizer_state"] = trainer.optimizer.state_dict()
            state["_trainer_steps"] = trainer.global_step
            state["_saved_lr"] = self._lr
        state["_trainer"] = None
        return state
