"""The four estimators: MLPClassifier / MLPRegressor (scikit-learn's MLP, parameter for
parameter, plus what it declined) and NeuralNetClassifier / NeuralNetRegressor (any gradstep
module, its arguments given as ``module__<name>``).

scikit-learn's parameters keep their names, defaults and meanings (see
``sklearn.neural_network.MLPClassifier``). Added, all off by default:

- ``dropout``: a rate, or one per hidden layer, applied after each hidden activation in training;
- ``activation``: also a list with one activation per hidden layer ("gelu" and "leaky_relu" too);
- ``class_weight`` (classifiers): None, "balanced" (n_samples / (n_classes · count)) or a dict,
  multiplying ``sample_weight``; each batch's loss is Σ wᵢ·lᵢ / Σ wᵢ, as scikit-learn weighs;
- ``loss`` (regressors): "squared_error", "poisson", "absolute_error" or "huber" (``huber_delta``);
- ``warmup``: linear learning-rate warm-up over that many optimizer steps;
- ``solver``: also any gradstep optimizer by name ("rmsprop", "adagrad", "adamw", "momentum") or
  class, its other arguments as ``optimizer__<name>``;
- ``validation_loss_curve_``: the validation split's loss per epoch (with ``early_stopping``).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from .. import nn
from ._network import build_mlp, check_per_layer, hidden_sizes, linear_layers
from ._params import check_activation, check_dropout
from ._targets import ClassifierNet, RegressorNet

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]

_NOT_PARAMS = ("self", "kwargs", "__class__")


def _store(est: Any, params: dict[str, Any]) -> None:
    """The constructor's only job: keep every argument as given (scikit-learn's rule)."""
    for name, value in params.items():
        if name not in _NOT_PARAMS:
            setattr(est, name, value)
    est._store_prefixed(params.get("kwargs", {}))


class _MLPNetwork:
    """The network of ``hidden_layer_sizes`` / ``activation`` / ``dropout``, with scikit-learn's
    ``coefs_`` (fan_in, fan_out) and ``intercepts_`` as views of its weights."""

    def _layer_plan(self) -> tuple[list[int], list[str], list[float]]:
        sizes = hidden_sizes(self.hidden_layer_sizes)
        acts = check_per_layer("activation", self.activation, len(sizes), check_activation)
        drops = check_per_layer("dropout", self.dropout, len(sizes), check_dropout)
        return sizes, acts, [float(d) for d in drops]

    def _build_module(self, n_features: int, n_outputs: int, dtype: Any, rs: Any) -> Any:
        sizes, acts, drops = self._layer_plan()
        units = [n_features, *sizes, n_outputs]
        self.n_layers_ = len(units)
        out_act = self.activation if isinstance(self.activation, str) else (acts or ["relu"])[-1]
        return build_mlp(units, acts, drops, dtype, rs, out_act)

    def _linear(self, name: str) -> list[Any]:
        if "module_" not in vars(self):
            raise AttributeError(f"{name} exists once the estimator is fitted; call fit first.")
        return linear_layers(self.module_)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape (fan_in, fan_out) as scikit-learn's (views
        of the network's ``Linear`` weights, which are (fan_out, fan_in))."""
        return [lin.weight.data.T for lin in self._linear("coefs_")]

    @coefs_.setter
    def coefs_(self, values: list[Any]) -> None:
        _assign(self._linear("coefs_"), "weight", "coefs_", values, transpose=True)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape (fan_out,) (views of the biases)."""
        return [lin.bias.data for lin in self._linear("intercepts_")]

    @intercepts_.setter
    def intercepts_(self, values: list[Any]) -> None:
        _assign(self._linear("intercepts_"), "bias", "intercepts_", values, transpose=False)


def _assign(layers: list[Any], attr: str, name: str, values: list[Any], transpose: bool) -> None:
    """Copy scikit-learn-shaped arrays into the layers' parameters, checking every shape."""
    values = list(values)
    if len(values) != len(layers):
        raise ValueError(f"{name} needs {len(layers)} arrays (one per layer), got {len(values)}.")
    for i, (lin, v) in enumerate(zip(layers, values)):
        target = getattr(lin, attr).data
        a = np.asarray(v)
        a = a.T if transpose else a
        if a.shape != target.shape:
            want = target.T.shape if transpose else target.shape
            raise ValueError(f"{name}[{i}] must have shape {want}, got {np.shape(v)}.")
        target[...] = a


class _ModuleNetwork:
    """The network of ``module``: None for scikit-learn's default MLP (100 ReLU units), a gradstep
    ``Module`` class or factory called with the ``module__<name>`` parameters (``in_features`` and
    ``out_features`` filled from the data when it takes them and they are not given), or a
    ``Module`` instance (copied; its weights are the starting point)."""

    _prefixes = ("module__", "optimizer__")

    def _layer_plan(self) -> None:
        return None

    def _build_module(self, n_features: int, n_outputs: int, dtype: Any, rs: Any) -> Any:
        spec = self.module
        if spec is None:
            return build_mlp([n_features, 100, n_outputs], ["relu"], [0.0], dtype, rs, "relu")
        if isinstance(spec, nn.Module):
            module = copy.deepcopy(spec)
        elif callable(spec):
            kwargs = self._prefixed("module__")
            try:
                accepted = inspect.signature(spec).parameters
            except (TypeError, ValueError):
                accepted = {}
            for key, value in (("in_features", n_features), ("out_features", n_outputs)):
                if key in accepted and key not in kwargs:
                    kwargs[key] = value
            module = spec(**kwargs)
        else:
            raise TypeError(
                f"module must be None, a gradstep Module class or factory, or a Module, got "
                f"{spec!r}."
            )
        if not isinstance(module, nn.Module):
            raise TypeError(f"module must build a gs.nn.Module, got {type(module).__name__}.")
        return module.to(dtype=dtype)


class MLPClassifier(_MLPNetwork, ClassifierNet):
    """scikit-learn's ``MLPClassifier`` on gradstep's engine: the same parameters, defaults,
    fitted attributes and numbers, plus ``dropout``, per-layer ``activation``, ``class_weight``,
    ``warmup``, gradstep optimizers as ``solver`` and ``validation_loss_curve_``.

    >>> from gradstep.sklearn import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(64,), dropout=0.1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]), clf.loss_curve_[-1], clf.coefs_[0].shape   # (n_features, 64)
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dropout: Any = 0.0,
        class_weight: Any = None,
        warmup: int = 0,
        **kwargs: Any,
    ) -> None:
        _store(self, locals())


class MLPRegressor(_MLPNetwork, RegressorNet):
    """scikit-learn's ``MLPRegressor`` on gradstep's engine (see :class:`MLPClassifier`), with
    ``loss`` "squared_error" (½·mean squared error), "poisson", "absolute_error" or "huber".

    >>> from gradstep.sklearn import MLPRegressor
    >>> reg = MLPRegressor(loss="huber", hidden_layer_sizes=(32, 32), random_state=0).fit(X, y)
    >>> reg.predict(X[:3]), reg.score(X, y)
    """

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dropout: Any = 0.0,
        huber_delta: float = 1.0,
        warmup: int = 0,
        **kwargs: Any,
    ) -> None:
        _store(self, locals())


class NeuralNetClassifier(_ModuleNetwork, ClassifierNet):
    """A classifier around any gradstep module: ``module`` maps (n, n_features) inputs to
    logits, one per class (one in all for two classes); training, parameters and attributes
    are :class:`MLPClassifier`'s.

    >>> from gradstep.sklearn import NeuralNetClassifier
    >>> def net(in_features, out_features, width=32):
    ...     return nn.Sequential(nn.Linear(in_features, width), nn.GELU(),
    ...                          nn.Linear(width, out_features))
    >>> clf = NeuralNetClassifier(net, module__width=64, random_state=0).fit(X, y)
    """

    def __init__(
        self,
        module: Any = None,
        *,
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        class_weight: Any = None,
        warmup: int = 0,
        **kwargs: Any,
    ) -> None:
        _store(self, locals())


class NeuralNetRegressor(_ModuleNetwork, RegressorNet):
    """A regressor around any gradstep module (see :class:`NeuralNetClassifier`): ``module``
    maps (n, n_features) inputs to (n, n_outputs) predictions.

    >>> from gradstep.sklearn import NeuralNetRegressor
    >>> reg = NeuralNetRegressor(net, loss="absolute_error", random_state=0).fit(X, y)
    """

    def __init__(
        self,
        module: Any = None,
        *,
        loss: str = "squared_error",
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        huber_delta: float = 1.0,
        warmup: int = 0,
        **kwargs: Any,
    ) -> None:
        _store(self, locals())
