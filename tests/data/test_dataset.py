import numpy as np
import pytest

from gradstep.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    check_finite,
    random_split,
)


class FakeTensor:
    """Stands in for a gradstep Tensor: a .numpy() method and a NumPy .data."""

    def __init__(self, data):
        self.data = data

    def numpy(self):
        return self.data


def make(n=10):
    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


def test_tensor_dataset_converts_inputs_and_keeps_label_dtype():
    ds = make()
    x, y = ds.arrays
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert ds.tensors is ds.arrays
    assert len(ds) == 10
    kept = TensorDataset(np.zeros((2, 2)), float_dtype=None)
    assert kept.arrays[0].dtype == np.float64
    from_lists = TensorDataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    assert from_lists.arrays[0].dtype == np.float32 and from_lists.arrays[1].dtype == np.int64


def test_tensor_dataset_accepts_tensors_and_pandas():
    t64 = FakeTensor(np.ones((4, 2), dtype=np.float64))
    ds = TensorDataset(t64, FakeTensor(np.arange(4)))
    assert ds.arrays[0].dtype == np.float64  # a Tensor's dtype was chosen already
    assert ds.arrays[0] is t64.data
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    series = pd.Series([0, 1, 0])
    ds = TensorDataset(frame, series)
    np.testing.assert_array_equal(ds[1][0], np.array([2.0, 5.0], dtype=np.float32))
    assert ds[2][1] == 0 and ds.arrays[1].dtype == np.int64


def test_tensor_dataset_accepts_gradstep_tensor():
    import gradstep as gs

    ds = TensorDataset(gs.tensor(np.ones((3, 2))), np.arange(3))
    assert isinstance(ds.arrays[0], np.ndarray) and ds.arrays[0].shape == (3, 2)


def test_tensor_dataset_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"same first dimension.*\[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(TypeError, match="non-numeric dtype"):
        TensorDataset(np.zeros((2, 1)), np.array(["a", "b"]))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


def test_tensor_dataset_rejects_nan_and_inf():
    x = np.zeros((5, 2), dtype=np.float32)
    x[1, 0] = np.nan
    x[3, 1] = np.nan
    x[4, 0] = np.inf
    with pytest.raises(ValueError, match=r"array 0 contains 2 NaN and 1 infinite.*index \(1, 0\)"):
        TensorDataset(x, np.arange(5))
    assert len(TensorDataset(x, validate=False)) == 5


def test_check_finite():
    ints = np.arange(4)
    assert check_finite(ints, "y") is ints
    with pytest.raises(ValueError, match=r"^x_train contains 0 NaN and 2 infinite"):
        check_finite(np.array([1.0, np.inf, -np.inf]), "x_train")
    with pytest.raises(ValueError, match="index 2"):
        check_finite([0.0, 1.0, np.nan], "v")


def test_getitem_int_slice_array_and_mask():
    ds = make()
    x, y = ds[3]
    np.testing.assert_array_equal(x, [9, 10, 11])
    assert y == 3
    assert ds[-1][1] == 9
    xb, yb = ds[np.array([4, 0, 4])]
    assert xb.shape == (3, 3)
    np.testing.assert_array_equal(yb, [4, 0, 4])
    np.testing.assert_array_equal(ds[2:5][1], [2, 3, 4])
    mask = np.zeros(10, dtype=bool)
    mask[[1, 7]] = True
    np.testing.assert_array_equal(ds[mask][1], [1, 7])
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ds[10]
    with pytest.raises(IndexError, match="index 11"):
        ds[np.array([0, 11])]


def test_subset():
    ds = make()
    sub = Subset(ds, [7, -1, 2])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub.indices, [7, 9, 2])
    assert sub[1][1] == 9
    np.testing.assert_array_equal(sub[np.array([2, 0])][1], [2, 7])
    assert sub.batch_indexing
    with pytest.raises(IndexError, match="index 10"):
        Subset(ds, [10])


def test_concat_dataset():
    a, b = make(4), TensorDataset(np.full((3, 3), -1.0), np.array([10, 11, 12]))
    cat = ConcatDataset([a, Subset(b, [2, 0, 1])])
    assert len(cat) == 7 and cat.cumulative_sizes == [4, 7]
    assert cat[4][1] == 12 and cat[3][1] == 3 and cat[-1][1] == 11
    idx = np.array([5, 0, 6, 3, 4, 1])
    xb, yb = cat[idx]
    np.testing.assert_array_equal(yb, [10, 0, 11, 3, 12, 1])
    assert xb.dtype == np.float32 and xb.shape == (6, 3)
    assert cat.batch_indexing
    assert len(a + b) == 7
    with pytest.raises(ValueError, match="different numbers of arrays"):
        ConcatDataset([a, TensorDataset(np.zeros((2, 3)))])
    with pytest.raises(ValueError, match="at least one dataset"):
        ConcatDataset([])


def test_generic_dataset_is_not_batch_indexable():
    class Squares(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.float32(i * i), i

    assert not Subset(Squares(), [0, 1]).batch_indexing
    mixed = ConcatDataset([Squares(), make(2)])
    assert not mixed.batch_indexing and mixed[4][1] == 1 and mixed[2][1] == 2
    with pytest.raises(TypeError, match="one integer at a time"):
        mixed[np.array([0, 1])]
    with pytest.raises(TypeError, match="one integer at a time"):
        Subset(Squares(), [0, 1])[0:2]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


@pytest.mark.parametrize(
    "n, lengths, expected",  # expected: what torch.utils.data.random_split gives
    [
        (10, [0.33, 0.33, 0.34], [4, 3, 3]),
        (10, [0.25, 0.25, 0.5], [3, 2, 5]),
        (11, [0.3, 0.3, 0.4], [4, 3, 4]),
        (10, [0.7, 0.2, 0.1], [7, 2, 1]),
        (10, [1.0], [10]),
        (10, [3, 7], [3, 7]),
    ],
)
def test_random_split_lengths_follow_torch(n, lengths, expected):
    assert [len(p) for p in random_split(make(n), lengths, seed=0)] == expected


def test_random_split_is_disjoint_and_seeded():
    ds = make(20)
    parts = random_split(ds, [0.5, 0.25, 0.25], seed=3)
    ids = np.concatenate([p[np.arange(len(p))][1] for p in parts])
    np.testing.assert_array_equal(np.sort(ids), np.arange(20))
    again = random_split(ds, [0.5, 0.25, 0.25], seed=3)
    other = random_split(ds, [0.5, 0.25, 0.25], seed=4)
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    assert not np.array_equal(parts[0].indices, other[0].indices)
    gen = random_split(ds, [10, 10], seed=np.random.default_rng(3))
    assert len(gen[0]) == 10


def test_random_split_rejects_bad_lengths():
    ds = make(10)
    with pytest.raises(ValueError, match="sum to the dataset length 10"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [1.5, -0.5])
