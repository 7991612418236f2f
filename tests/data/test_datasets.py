import os
import random
import sys

import numpy as np
import pytest

from gradstep.data import datasets
from gradstep.data.datasets.cache import cache_dir


def all_y(bundle):
    return [part.arrays[1] for part in (bundle.train, bundle.val, bundle.test)]


def check_stratified(bundle):
    parts = all_y(bundle)
    total = np.bincount(np.concatenate(parts), minlength=bundle.n_classes)
    for y in parts:
        expected = total * len(y) / total.sum()
        assert np.all(np.abs(np.bincount(y, minlength=bundle.n_classes) - expected) <= 1.0)


@pytest.mark.parametrize(
    "name, n, n_features, n_classes",
    [("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast-cancer", 569, 30, 2),
     ("digits", 1797, 64, 10)],
)  # fmt: skip
def test_sklearn_sets(name, n, n_features, n_classes):
    bundle = datasets.load(name)
    sizes = [len(bundle.train), len(bundle.val), len(bundle.test)]
    assert sum(sizes) == n
    assert sizes[1] == sizes[2] == int(np.floor(0.15 * n + 0.5))
    assert bundle.n_features == n_features and bundle.n_classes == n_classes
    assert len(bundle.feature_names) == n_features and len(bundle.target_names) == n_classes
    assert bundle.task == "classification" and bundle.name == name and bundle.description
    x, y = bundle.train.arrays
    assert x.dtype == np.float32 and x.shape[1] == n_features and y.dtype == np.int64
    assert set(np.concatenate(all_y(bundle)).tolist()) == set(range(n_classes))
    check_stratified(bundle)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    again = datasets.load(name)
    np.testing.assert_array_equal(again.val.arrays[0], bundle.val.arrays[0])


def test_split_depends_on_seed_and_scaler_uses_train_only():
    a, b = datasets.load("wine", seed=0), datasets.load("wine", seed=1)
    assert not np.array_equal(a.test.arrays[1], b.test.arrays[1])
    raw_train = a.scaler.inverse_transform(a.train.arrays[0])
    np.testing.assert_allclose(a.scaler.mean_, raw_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(a.scaler.scale_, raw_train.std(axis=0), rtol=1e-4)
    assert np.abs(a.val.arrays[0].mean(axis=0)).max() > 1e-3
    raw = datasets.load("wine", standardize=False)
    assert raw.scaler is None
    np.testing.assert_allclose(raw.train.arrays[0], raw_train, rtol=1e-5)


def test_digits_constant_pixels_get_scale_one():
    bundle = datasets.load("digits")
    constant = bundle.scaler.var_ == 0
    assert constant.any() and np.all(bundle.scaler.scale_[constant] == 1.0)
    assert np.isfinite(bundle.test.arrays[0]).all()


def test_water_heater_formula_by_hand():
    bundle = datasets.load("water-heater")
    assert bundle.task == "regression" and bundle.n_classes is None
    assert (
        bundle.target_names == ["temperature", "amount"]
        and "not standardised" in bundle.description
    )
    assert [len(bundle.train), len(bundle.val), len(bundle.test)] == [700, 150, 150]
    x = bundle.scaler.inverse_transform(bundle.train.arrays[0])
    y = bundle.train.arrays[1]
    assert y.dtype == np.float32 and y.shape == (700, 2)
    assert x.min() >= 0.05 - 1e-6 and x.max() <= 1.0 + 1e-6
    for (hot, cold), (temp, amount) in zip(x[:3], y[:3]):
        assert temp == pytest.approx((hot * 60 + cold * 10) / (hot + cold), rel=1e-5)
        assert amount == pytest.approx(hot + cold, rel=1e-5)
    assert 10 <= y[:, 0].min() and y[:, 0].max() <= 60
    noisy = datasets.load("water-heater", noise=0.1, n_samples=200)
    assert len(noisy.train) == 140
    xn = noisy.scaler.inverse_transform(noisy.train.arrays[0])
    exact = (xn[:, 0] * 60 + xn[:, 1] * 10) / xn.sum(axis=1)
    assert 0.5 < np.abs(noisy.train.arrays[1][:, 0] - exact).mean() < 5


def test_xor():
    bundle = datasets.load("xor")
    assert bundle.train is bundle.val is bundle.test and bundle.scaler is None
    x, y = bundle.train.arrays
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert y.tolist() == [0, 1, 1, 0] and bundle.n_classes == 2
    noisy = datasets.load("xor", noisy=True, n_samples=100, noise=0.05, standardize=False)
    assert [len(noisy.train), len(noisy.val), len(noisy.test)] == [70, 15, 15]
    xn, yn = noisy.train.arrays
    corners = np.round(xn).astype(int)
    np.testing.assert_array_equal(corners[:, 0] ^ corners[:, 1], yn)
    with pytest.raises(ValueError, match="noisy=True"):
        datasets.load("xor", n_samples=10)


def test_spirals_and_moons():
    spirals = datasets.load("spirals", n_classes=3, n_samples=300)
    assert spirals.n_classes == 3 and spirals.n_features == 2
    np.testing.assert_array_equal(np.bincount(np.concatenate(all_y(spirals))), [100, 100, 100])
    check_stratified(spirals)
    moons = datasets.load("moons", noise=0.0, standardize=False)
    x = np.concatenate([moons.train.arrays[0], moons.val.arrays[0], moons.test.arrays[0]])
    y = np.concatenate(all_y(moons))
    assert x.shape == (300, 2) and np.bincount(y).tolist() == [150, 150]
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0, atol=1e-6)
    other = datasets.load("moons", seed=5)
    assert not np.array_equal(other.train.arrays[0], datasets.load("moons").train.arrays[0])


def test_names_info_and_errors():
    names = datasets.names()
    assert names[:2] == ["water-heater", "xor"] and "mnist1d" in names and len(names) == 9
    rows = datasets.info()
    assert [r.name for r in rows] == names
    row = datasets.info("IRIS")
    assert (row.task, row.n_samples, row.n_features, row.n_classes) == ("classification", 150, 4, 3)
    for name in ("water-heater", "spirals", "moons"):
        bundle, row = datasets.load(name), datasets.info(name)
        total = len(bundle.train) + len(bundle.val) + len(bundle.test)
        assert (total, bundle.n_features, bundle.n_classes) == (
            row.n_samples, row.n_features, row.n_classes
        )  # fmt: skip
    assert datasets.load("Breast_Cancer").name == "breast-cancer"
    with pytest.raises(ValueError, match=r"unknown dataset 'moon'; known datasets: .*Did you mean"):
        datasets.load("moon")
    with pytest.raises(TypeError, match="has no option 'noise'; valid options: standardize"):
        datasets.load("iris", noise=0.1)


def test_missing_optional_packages(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADSTEP_CACHE_DIR", str(tmp_path))  # nothing cached yet
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(
        ImportError, match=r"install gradstep\[datasets\] to use the 'iris' dataset"
    ):
        datasets.load("iris")
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r"install gradstep\[datasets\] to use the 'mnist1d'"):
        datasets.load("mnist1d")


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADSTEP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gradstep"
    monkeypatch.setenv("GRADSTEP_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("GRADSTEP_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(cache_dir()).endswith(os.path.join(".cache", "gradstep"))


def test_mnist1d_generates_caches_and_keeps_global_rng(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADSTEP_CACHE_DIR", str(tmp_path))
    np.random.seed(123)
    random.seed(321)
    numpy_state, python_state = np.random.get_state(), random.getstate()
    bundle = datasets.load("mnist1d")
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:] and random.getstate() == python_state
    assert len(bundle.train) + len(bundle.val) == 4000 and len(bundle.test) == 1000
    assert len(bundle.val) == 600 and bundle.n_features == 40 and bundle.n_classes == 10
    assert bundle.train.arrays[0].shape == (3400, 40) and bundle.train.arrays[0].dtype == np.float32
    check_stratified_val = np.bincount(bundle.val.arrays[1], minlength=10)
    train_counts = np.bincount(bundle.train.arrays[1], minlength=10) + check_stratified_val
    assert np.all(np.abs(check_stratified_val - train_counts * 0.15) <= 1.0)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].startswith("mnist1d-") and files[0].endswith(".npz")
    with np.load(tmp_path / files[0], allow_pickle=False) as archive:
        assert sorted(archive.files) == ["x", "x_test", "y", "y_test"]

    import mnist1d.data

    def refuse(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(mnist1d.data, "make_dataset", refuse)
    cached = datasets.load("mnist1d")
    np.testing.assert_array_equal(cached.test.arrays[0], bundle.test.arrays[0])
    np.testing.assert_array_equal(cached.val.arrays[1], bundle.val.arrays[1])
    with pytest.raises(ValueError, match="unknown mnist1d generator argument 'samples'"):
        datasets.load("mnist1d", args={"samples": 10})


def test_sklearn_sets_are_cached_and_load_without_sklearn(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from gradstep.data import datasets; d = datasets.load('iris'); "
        "print(d.train.arrays[0].shape, 'sklearn' in sys.modules)"
    )
    env = {**__import__("os").environ, "GRADSTEP_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.stdout.split() == ["(104,", "4)", "True"], first.stderr
    assert second.stdout.split() == ["(104,", "4)", "False"], second.stderr
    assert (tmp_path / "sklearn-iris-v1.npz").is_file()


def test_bundles_say_how_many_outputs_the_model_needs():
    digits = datasets.load("digits")
    assert digits.n_outputs == digits.n_classes == 10
    heater = datasets.load("water-heater")
    assert heater.n_classes is None
    assert heater.n_outputs == heater.train.arrays[1].shape[1]
