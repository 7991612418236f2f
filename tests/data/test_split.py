import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from gradstep.data.split import Standardizer, one_hot, split_indices, train_val_test_split


def labelled(n_per=(500, 300, 200)):
    y = np.concatenate([np.full(k, c) for c, k in enumerate(n_per)])
    x = np.arange(y.size, dtype=np.float32)[:, None]
    return x, y


def test_split_sizes_cover_and_stratify():
    x, y = labelled()
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(x, y, seed=0)
    assert (len(y_tr), len(y_va), len(y_te)) == (700, 150, 150)
    ids = np.concatenate([x_tr, x_va, x_te])[:, 0]
    np.testing.assert_array_equal(np.sort(ids), np.arange(1000))
    np.testing.assert_array_equal(y[x_va[:, 0].astype(int)], y_va)
    for part in (y_va, y_te):
        np.testing.assert_array_equal(np.bincount(part), [75, 45, 30])


def test_split_is_seeded():
    x, y = labelled()
    a = train_val_test_split(x, y, seed=1)
    b = train_val_test_split(x, y, seed=1)
    c = train_val_test_split(x, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_split_rounds_to_exact_totals_with_uneven_classes():
    y = np.array([0] * 7 + [1] * 5 + [2] * 1)
    tr, va, te = split_indices(13, y, val=0.2, test=0.2, seed=0)
    assert (len(va), len(te)) == (3, 3)
    assert 12 in tr  # the single sample of class 2 stays in train
    assert set(np.concatenate([tr, va, te]).tolist()) == set(range(13))


def test_unstratified_split_for_regression():
    x = np.random.default_rng(0).normal(size=(40, 2))
    y = x.sum(axis=1)
    x_tr, x_va, x_te, *_ = train_val_test_split(x, y, val=0.25, test=0.25, stratify=False)
    assert (len(x_tr), len(x_va), len(x_te)) == (20, 10, 10)
    with pytest.raises(ValueError, match="pass stratify=False"):
        train_val_test_split(x, y)


def test_split_rejects_bad_fractions():
    x, y = labelled((5, 5))
    with pytest.raises(ValueError, match="val must be a fraction"):
        train_val_test_split(x, y, val=1.2)
    with pytest.raises(ValueError, match="leave no training samples"):
        train_val_test_split(x, y, val=0.5, test=0.5 - 1e-9)
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_test_split(x, y[:-1])


def test_standardizer_matches_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 4))
    x[:, 2] = 7.0
    ours = Standardizer().fit(x)
    ref = StandardScaler().fit(x)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    assert ours.scale_[2] == 1.0
    np.testing.assert_allclose(ours.transform(x), ref.transform(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(x)), x, rtol=1e-12)


def test_standardizer_keeps_float32_and_uses_train_statistics():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(30, 3)).astype(np.float32)
    test = rng.normal(5.0, size=(10, 3)).astype(np.float32)
    scaler = Standardizer()
    z = scaler.fit_transform(train)
    assert z.dtype == np.float32 and scaler.transform(test).dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(
        scaler.transform(test), (test - train.mean(0)) / train.std(0), rtol=1e-5
    )
    assert scaler.transform(np.ones((2, 3), dtype=np.int64)).dtype == np.float32
    restored = Standardizer()
    restored.load_state_dict(scaler.state_dict())
    np.testing.assert_array_equal(restored.transform(test), scaler.transform(test))


def test_standardizer_errors():
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(np.ones((2, 2)))
    scaler = Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"per-sample shape \(3,\).*\(2,\)"):
        scaler.transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))


@pytest.mark.parametrize("num_classes", [None, -1, 6])
def test_one_hot_like_torch(num_classes):
    labels = np.array([[0, 3], [2, 1], [4, 4]])
    width = 5 if num_classes in (None, -1) else num_classes
    out = one_hot(labels, num_classes)
    assert out.dtype == np.int64 and out.shape == (3, 2, width)
    np.testing.assert_array_equal(out, np.eye(width, dtype=np.int64)[labels])
    assert one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32


def test_one_hot_rejects_bad_labels():
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="label -1"):
        one_hot(np.array([-1, 0]), 3)
    with pytest.raises(TypeError, match="integer class labels"):
        one_hot(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="empty labels"):
        one_hot(np.array([], dtype=np.int64))


# -- the scale floor and the split errors ------------------------------------------------------


def test_an_almost_constant_feature_is_scaled_by_a_tenth_of_its_range():
    rare = np.zeros((1000, 1))
    rare[0] = 16.0  # a pixel lit in one image of a thousand: std = 16·√(0.001·0.999) ≈ 0.506
    scaler = Standardizer().fit(rare)
    assert scaler.scale_[0] == pytest.approx(1.6)  # max(0.506, 0.1 · 16)
    z = scaler.transform(rare)
    assert z.max() == pytest.approx((16 - 0.016) / 1.6) and z.max() < 10
    plain = Standardizer(min_scale=0).fit(rare)
    np.testing.assert_allclose(plain.scale_, StandardScaler().fit(rare).scale_)
    assert plain.transform(rare).max() == pytest.approx((16 - 0.016) / (16 * np.sqrt(0.000999)))


def test_ordinary_features_are_scaled_as_scikit_learn_does():
    x = np.random.default_rng(0).normal([1, -2, 5], [0.5, 3, 10], size=(2000, 3))
    x[:, 2] = np.random.default_rng(1).integers(0, 2, 2000)  # a balanced binary column
    ours, theirs = Standardizer().fit(x), StandardScaler().fit(x)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="min_scale must be a fraction"):
        Standardizer(min_scale=2)


def test_split_errors_say_what_would_fix_them():
    from gradstep.data.split import SplitError

    with pytest.raises(SplitError, match="too small for a stratified split") as err:
        split_indices(4, np.arange(4), val=0.25, test=0.25)
    assert err.value.option == "stratify"
    with pytest.raises(SplitError, match="leave no training samples") as err:
        split_indices(2, None, val=0.5, test=0.4, stratify=False)
    assert err.value.option == "fractions"
