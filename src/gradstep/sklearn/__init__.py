"""scikit-learn estimators on gradstep's Trainer: MLPClassifier, MLPRegressor (scikit-learn's MLP,
parameter for parameter, plus dropout, per-layer activations, losses, class weights, warm-up,
gradstep optimizers and a validation-loss curve) and NeuralNetClassifier / NeuralNetRegressor
(any gradstep module). They work in Pipeline, GridSearchCV and cross_val_score.

>>> from gradstep.sklearn import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X_train, y_train)
>>> clf.score(X_test, y_test)
"""

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gradstep.sklearn needs scikit-learn >= 1.6; install it with "
        "pip install 'gradstep[datasets]'."
    ) from exc

from ._estimators import MLPClassifier, MLPRegressor, NeuralNetClassifier, NeuralNetRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]
