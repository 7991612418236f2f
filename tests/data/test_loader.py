import numpy as np
import pytest

from gradstep.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset
from gradstep.data.loader import DataLoader


def make(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return TensorDataset(x, np.arange(n, dtype=np.int64))


def ids(loader):
    return [batch[1].tolist() for batch in loader]


class CountingDataset(TensorDataset):
    calls = 0

    def __getitem__(self, index):
        type(self).calls += 1
        return super().__getitem__(index)


class Samples(Dataset):
    """A generic dataset: no batch indexing, items built one at a time."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i


@pytest.mark.parametrize("n", [1, 7, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_and_batches_follow_torch(n, batch_size, drop_last):
    loader = DataLoader(make(n), batch_size=batch_size, drop_last=drop_last)
    chunks = [list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)]
    if drop_last and n % batch_size:
        chunks = chunks[:-1]
    batches = list(loader)
    assert len(loader) == len(batches) == (n // batch_size if drop_last else -(-n // batch_size))
    assert [b[1].tolist() for b in batches] == chunks


def test_batch_modes():
    ds = make(10)
    per_sample = list(DataLoader(ds))
    assert len(per_sample) == 10 and per_sample[0][0].shape == (1, 2)
    sizes = [len(b[1]) for b in DataLoader(ds, batch_size=4)]
    assert sizes == [4, 4, 2]
    assert [len(b[1]) for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    full = list(DataLoader(ds, batch_size="full", shuffle=True, seed=0))
    assert len(full) == 1 and full[0][0].shape == (10, 2)
    assert len(DataLoader(ds, batch_size="full")) == 1
    assert len(DataLoader(TensorDataset(np.zeros((0, 2))), batch_size="full")) == 0


def test_batches_keep_dtypes_and_are_copies():
    ds = TensorDataset(np.ones((6, 2)), np.arange(6, dtype=np.int32), float_dtype=np.float64)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.dtype == np.float64 and y.dtype == np.int32
    x[:] = -5
    assert ds.arrays[0].min() == 1.0
    x, y = next(iter(DataLoader(make(), batch_size=3, shuffle=True, seed=1)))
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_every_epoch_covers_each_sample_once():
    loader = DataLoader(make(23), batch_size=5, shuffle=True, seed=7)
    for _ in range(3):
        seen = sorted(i for batch in ids(loader) for i in batch)
        assert seen == list(range(23))


def test_seeded_shuffle_is_reproducible_per_epoch():
    a = DataLoader(make(50), batch_size=8, shuffle=True, seed=11)
    b = DataLoader(make(50), batch_size=8, shuffle=True, seed=11)
    first, second = ids(a), ids(a)
    assert first == ids(b) and second == ids(b)
    assert first != second
    expected = np.random.default_rng([11, 1]).permutation(50)
    assert sum(second, []) == expected.tolist()
    assert ids(DataLoader(make(50), batch_size=8, shuffle=True, seed=12)) != first


def test_set_epoch_and_state_dict_resume():
    run = DataLoader(make(40), batch_size=6, shuffle=True, seed=3)
    epochs = [ids(run) for _ in range(4)]
    run.set_epoch(2)
    assert ids(run) == epochs[2]
    interrupted = DataLoader(make(40), batch_size=6, shuffle=True, seed=3)
    ids(interrupted), ids(interrupted)
    state = interrupted.state_dict()
    assert state == {"seed": 3, "epoch": 2}
    resumed = DataLoader(make(40), batch_size=6, shuffle=True)
    resumed.load_state_dict(state)
    assert ids(resumed) == epochs[2] and ids(resumed) == epochs[3]
    run.epoch = 1
    assert ids(run) == epochs[1]
    with pytest.raises(ValueError, match="missing"):
        resumed.load_state_dict({"seed": 1})
    with pytest.raises(ValueError, match="epoch"):
        resumed.set_epoch(-1)


def test_unseeded_loader_is_consistent_but_fresh():
    a = DataLoader(make(60), shuffle=True)
    b = DataLoader(make(60), shuffle=True)
    assert isinstance(a.seed, int)
    np.testing.assert_array_equal(a.order(0), a.order(0))
    assert not np.array_equal(a.order(0), b.order(0))


def test_in_memory_datasets_take_one_fetch_per_batch():
    CountingDataset.calls = 0
    ds = CountingDataset(np.zeros((20, 2)), np.arange(20))
    batches = list(DataLoader(ds, batch_size=6, shuffle=True, seed=0))
    assert CountingDataset.calls == len(batches) == 4
    CountingDataset.calls = 0
    cat = ConcatDataset([Subset(ds, np.arange(10)), make(5)])
    batches = list(DataLoader(cat, batch_size=4, shuffle=True, seed=0))
    assert CountingDataset.calls <= len(batches) == 4
    assert sorted(sum((b[1].tolist() for b in batches), [])) == sorted(
        list(range(10)) + [0, 1, 2, 3, 4]
    )


def test_subclass_getitem_is_honoured_without_shuffle():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    x, _ = next(iter(DataLoader(Doubled(np.ones((4, 2)), np.arange(4)), batch_size=4)))
    np.testing.assert_array_equal(x, 2.0)


def test_generic_dataset_is_collated():
    loader = DataLoader(Samples(5), batch_size=2)
    batches = list(loader)
    x, y = batches[0]
    assert x.shape == (2, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(batches[-1][1], [4])

    class Dicts(Samples):
        def __getitem__(self, i):
            return {"x": [float(i), 0.5], "w": float(i)}

    batch = next(iter(DataLoader(Dicts(3), batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == np.float32
    assert batch["w"].dtype == np.float32


def test_collate_fn_receives_samples():
    seen = []

    def collate(items):
        seen.append(len(items))
        return "batch"

    out = list(DataLoader(make(5), batch_size=2, collate_fn=collate))
    assert out == ["batch"] * 3 and seen == [2, 2, 1]


def test_ragged_generic_samples_give_clear_error():
    class Ragged(Samples):
        def __getitem__(self, i):
            return np.zeros(i + 1), i

    with pytest.raises(ValueError, match="cannot stack field 0.*collate_fn"):
        list(DataLoader(Ragged(3), batch_size=3))


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_batch_size_values(bad):
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DataLoader(make(), batch_size=bad)


@pytest.mark.parametrize("bad", [2.5, True, None])
def test_bad_batch_size_types(bad):
    with pytest.raises(TypeError, match="batch_size must be a positive integer or 'full'"):
        DataLoader(make(), batch_size=bad)


def test_bad_loader_arguments():
    with pytest.raises(ValueError, match="'all'"):
        DataLoader(make(), batch_size="all")
    with pytest.raises(ValueError, match="drop_last=True has no meaning"):
        DataLoader(make(), batch_size="full", drop_last=True)
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        DataLoader(make(), shuffle="yes")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        DataLoader(make(), seed=-1)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(np.zeros(3).tolist().__iter__())


def test_manual_seed_makes_unseeded_shuffling_repeatable():
    import gradstep as gs
    from gradstep.data import DataLoader, TensorDataset

    ds = TensorDataset(np.arange(20.0).reshape(20, 1))
    gs.manual_seed(5)
    a = [b[0].ravel().tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    gs.manual_seed(5)
    b = [b[0].ravel().tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    assert a == b
