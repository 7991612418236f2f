"""gs.data.transforms and TransformedDataset: outputs checked by hand (a known image moved by a
known offset, a flip, padding modes), noise statistics, torchvision's RandomCrop semantics, and
augmented batches that repeat exactly for the same loader seed and epoch."""

from __future__ import annotations

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.data import DataLoader, Dataset, TensorDataset, TransformedDataset
from gradstep.data import transforms as T
from gradstep.train import Trainer

IMAGE = np.arange(16.0, dtype=np.float32).reshape(1, 4, 4)


# -- deterministic operations ------------------------------------------------------------------


def test_shift_moves_an_image_by_a_known_offset_and_fills_the_rest():
    # one row down, two columns left: out[i, j] = x[i - 1, j + 2]
    expected = np.array(
        [[0, 0, 0, 0], [2, 3, 0, 0], [6, 7, 0, 0], [10, 11, 0, 0]], dtype=np.float32
    )[None]
    out = T.shift(IMAGE, (1, -2))
    assert out.dtype == np.float32 and np.array_equal(out, expected)
    assert np.array_equal(T.shift(IMAGE, (0, 0)), IMAGE)
    assert np.array_equal(T.shift(IMAGE, (-1, 1), fill=-5.0)[0, 3], [-5, -5, -5, -5])
    signal = np.array([[1.0, 2.0, 3.0, 4.0]])
    assert np.array_equal(T.shift(signal, (2,)), [[0.0, 0.0, 1.0, 2.0]])


def test_hflip_and_crop_by_hand():
    assert np.array_equal(T.hflip(IMAGE)[0, 0], [3, 2, 1, 0])
    assert np.array_equal(T.crop(IMAGE, 1, 2, 2, 2)[0], [[6, 7], [10, 11]])


# -- random transforms -------------------------------------------------------------------------


def test_random_shift_draws_one_documented_offset_per_sample():
    batch = np.stack([IMAGE] * 6) + np.arange(6, dtype=np.float32)[:, None, None, None]
    out = T.RandomShift(1).batch(batch, np.random.default_rng(7))
    offsets = np.random.default_rng(7).integers(-1, 2, size=(6, 2))
    for n in range(6):
        assert np.array_equal(out[n], T.shift(batch[n], offsets[n]))
    assert len({tuple(o) for o in offsets}) > 1  # the samples got different offsets


def test_random_shift_covers_every_offset_uniformly_and_no_other():
    m = 2
    dot = np.zeros((1, 9, 9), dtype=np.float32)
    dot[0, 4, 4] = 1.0
    out = T.RandomShift(m).batch(np.stack([dot] * 5000), np.random.default_rng(0))
    where = np.argwhere(out[:, 0] == 1.0)  # (sample, row, col) of the moved dot
    assert len(where) == 5000  # every dot stays inside (9x9, offsets up to 2)
    counts = np.zeros((2 * m + 1, 2 * m + 1))
    for _, r, c in where:
        counts[r - 4 + m, c - 4 + m] += 1
    expected = 5000 / 25
    assert counts.min() > expected - 4 * np.sqrt(expected)  # each of the 25 offsets appears
    assert counts.max() < expected + 4 * np.sqrt(expected)


def test_random_shift_of_signals_moves_the_last_dim_only():
    signals = np.tile(np.arange(1.0, 9.0), (50, 2, 1))  # (50, 2, 8): two channels
    out = T.RandomShift(3, dims=1).batch(signals, np.random.default_rng(1))
    offsets = np.random.default_rng(1).integers(-3, 4, size=(50, 1))
    for n in range(50):
        assert np.array_equal(out[n], T.shift(signals[n], offsets[n]))
        assert np.array_equal(out[n, 0], out[n, 1])  # both channels move together


def test_random_crop_is_torchvisions_pad_then_crop_at_a_uniform_corner():
    batch = np.stack([IMAGE] * 8)
    rng = np.random.default_rng(3)
    out = T.RandomCrop(4, padding=1).batch(batch, rng)
    draw = np.random.default_rng(3)
    tops, lefts = draw.integers(0, 3, size=8), draw.integers(0, 3, size=8)
    padded = np.pad(IMAGE, ((0, 0), (1, 1), (1, 1)))
    for n in range(8):
        assert np.array_equal(out[n], padded[:, tops[n] : tops[n] + 4, lefts[n] : lefts[n] + 4])
        # the same as a shift by (1 - top, 1 - left): RandomShift(1) is RandomCrop(size, padding=1)
        assert np.array_equal(out[n], T.shift(IMAGE, (1 - tops[n], 1 - lefts[n])))


@pytest.mark.parametrize(
    ("padding", "shape", "rows", "cols"),
    [
        (2, (8, 8), (2, 2), (2, 2)),
        ((1, 3), (10, 6), (3, 3), (1, 1)),  # (left/right, top/bottom)
        ((1, 2, 3, 0), (6, 8), (2, 0), (1, 3)),  # (left, top, right, bottom)
    ],
)
def test_random_crop_takes_torchvisions_padding_forms(padding, shape, rows, cols):
    out = T.RandomCrop(shape, padding=padding)(IMAGE)  # the crop is the whole padded image
    assert np.array_equal(out, np.pad(IMAGE, ((0, 0), rows, cols)))


def test_random_crop_padding_modes_match_their_definitions():
    row = np.array([[[1.0, 2.0, 3.0]]])  # (1, 1, 3)
    expected = {
        "constant": [9.0, 1.0, 2.0, 3.0, 9.0],
        "edge": [1.0, 1.0, 2.0, 3.0, 3.0],
        "reflect": [2.0, 1.0, 2.0, 3.0, 2.0],  # the edge value is not repeated
        "symmetric": [1.0, 1.0, 2.0, 3.0, 3.0],  # the edge value is repeated
    }
    for mode, values in expected.items():
        crop = T.RandomCrop((1, 5), padding=(1, 0), fill=9.0, padding_mode=mode)
        assert np.array_equal(crop(row)[0, 0], values), mode


def test_random_crop_pad_if_needed_and_too_large_crops():
    small = np.ones((1, 3, 3), dtype=np.float32)
    out = T.RandomCrop(5, pad_if_needed=True)(small, np.random.default_rng(0))
    # padded by the shortfall 2 on every side to 7x7: any 5x5 window there holds the 3x3 block
    assert out.shape == (1, 5, 5) and out.sum() == 9.0
    assert T.RandomCrop((3, 7), pad_if_needed=True)(small).shape == (1, 3, 7)
    with pytest.raises(ValueError, match=r"RandomCrop size \(5, 5\) is larger than the"):
        T.RandomCrop(5)(small)


def test_horizontal_flip_by_hand_and_its_probability():
    flipped = T.RandomHorizontalFlip(p=1.0)(IMAGE)
    assert np.array_equal(flipped[0, 1], [7, 6, 5, 4])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(IMAGE), IMAGE)
    batch = np.stack([IMAGE] * 4000)
    out = T.RandomHorizontalFlip(p=0.3).batch(batch, np.random.default_rng(2))
    is_flipped = out[:, 0, 0, 0] == 3.0
    assert np.all(is_flipped | (out[:, 0, 0, 0] == 0.0))
    assert abs(is_flipped.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000)


def test_gaussian_noise_has_the_stated_mean_and_spread():
    x = np.full((2000, 1, 8, 8), 0.5, dtype=np.float32)
    out = T.GaussianNoise(mean=0.1, sigma=0.2).batch(x, np.random.default_rng(4))
    noise = (out - x).astype(np.float64)
    n = noise.size
    assert out.dtype == np.float32
    assert abs(noise.mean() - 0.1) < 4 * 0.2 / np.sqrt(n)
    assert abs(noise.std() - 0.2) < 4 * 0.2 / np.sqrt(2 * n)
    clipped = T.GaussianNoise(sigma=1.0, clip=True).batch(x, np.random.default_rng(4))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    with pytest.raises(TypeError, match="GaussianNoise needs floating inputs"):
        T.GaussianNoise()(np.ones((1, 2, 2), dtype=np.int64))


def test_compose_applies_in_order_and_takes_plain_callables():
    compose = T.Compose([T.RandomHorizontalFlip(p=1.0), lambda s: s * 2.0])
    assert np.array_equal(compose(IMAGE), T.hflip(IMAGE) * 2.0)
    assert np.array_equal(compose.batch(np.stack([IMAGE] * 3))[2], T.hflip(IMAGE) * 2.0)
    assert "RandomHorizontalFlip(p=1.0)" in repr(compose)


def test_transforms_reject_bad_arguments():
    with pytest.raises(ValueError, match="max_shift must be a non-negative int"):
        T.RandomShift(-1)
    with pytest.raises(ValueError, match="dims must be 1"):
        T.RandomShift(1, dims=3)
    with pytest.raises(ValueError, match="p must be a probability"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.RandomCrop(4, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        T.GaussianNoise(sigma=-1.0)
    with pytest.raises(ValueError, match="RandomShift needs a batch of at least"):
        T.RandomShift(1)(np.ones(5))
    with pytest.raises(TypeError, match="Compose takes callables"):
        T.Compose([3])


# -- the dataset and the loader's seeding ------------------------------------------------------


def _augmented(n: int = 40) -> TransformedDataset:
    x = np.random.default_rng(0).random((n, 1, 6, 6)).astype(np.float32)
    augment = T.Compose([T.RandomShift(1), T.GaussianNoise(sigma=0.1)])
    return TransformedDataset(TensorDataset(x, np.arange(n)), augment)


def _epoch(loader: DataLoader) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(xb.copy(), yb.copy()) for xb, yb in loader]


def test_the_same_loader_seed_and_epoch_give_the_same_augmented_batches():
    first = DataLoader(_augmented(), batch_size=16, shuffle=True, seed=5)
    again = DataLoader(_augmented(), batch_size=16, shuffle=True, seed=5)
    epoch0, epoch1 = _epoch(first), _epoch(first)
    for (a, ya), (b, yb) in zip(epoch0, _epoch(again)):
        assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(epoch0[0][0], epoch1[0][0])  # a new epoch draws anew
    resumed = DataLoader(_augmented(), batch_size=16, shuffle=True, seed=5)
    resumed.load_state_dict({"seed": 5, "epoch": 1})  # as a resumed run does
    for (a, _), (b, _) in zip(epoch1, _epoch(resumed)):
        assert np.array_equal(a, b)
    other = DataLoader(_augmented(), batch_size=16, shuffle=True, seed=6)
    assert not any(np.array_equal(a, b) for (a, _), (b, _) in zip(epoch0, _epoch(other)))


def test_the_augmentation_of_a_batch_comes_from_the_loaders_generator():
    ds = _augmented()
    loader = DataLoader(ds, batch_size=16, shuffle=False, seed=11)
    xb, _ = next(iter(loader))
    x = ds.dataset.arrays[0][:16]
    expected = T.Compose([T.RandomShift(1), T.GaussianNoise(sigma=0.1)]).batch(
        x, np.random.default_rng([11, 0, 0, 0])
    )
    assert np.array_equal(xb, expected)


class _CountingShift(T.RandomShift):
    calls = 0

    def batch(self, x, rng=None):
        type(self).calls += 1
        return super().batch(x, rng)


class _OneByOne(Dataset):
    """A dataset without batch indexing: the loader fetches sample by sample."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x[i], self.y[i]


def test_batches_are_transformed_in_one_call_and_samples_one_by_one_otherwise():
    x = np.random.default_rng(1).random((30, 1, 5, 5)).astype(np.float32)
    _CountingShift.calls = 0
    fast = TransformedDataset(TensorDataset(x, np.arange(30)), _CountingShift(1))
    assert fast.batch_indexing
    assert len(list(DataLoader(fast, batch_size=10, seed=0))) == 3
    assert _CountingShift.calls == 3  # one vectorised call per batch
    _CountingShift.calls = 0
    slow = TransformedDataset(_OneByOne(x, np.arange(30)), _CountingShift(1))
    assert not slow.batch_indexing
    first = _epoch(DataLoader(slow, batch_size=10, seed=0))
    assert _CountingShift.calls == 30
    second = _epoch(DataLoader(slow, batch_size=10, seed=0))
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(first, second))
    for xb, _ in first:  # every sample is some shift of its original by at most 1
        assert xb.shape == (10, 1, 5, 5)


def test_indexing_a_transformed_dataset():
    ds = _augmented(10)
    x, y = ds[3]
    assert x.shape == (1, 6, 6) and y == 3
    xb, yb = ds[np.array([1, 2])]
    assert xb.shape == (2, 1, 6, 6) and list(yb) == [1, 2]
    gs.manual_seed(0)
    a = _augmented(10)[np.arange(10)][0]
    gs.manual_seed(0)
    assert np.array_equal(_augmented(10)[np.arange(10)][0], a)  # outside a loader: manual_seed
    with pytest.raises(TypeError, match="transform must be callable"):
        TransformedDataset(ds.dataset, 3)


def _fit(augment: bool) -> np.ndarray:
    x = np.random.default_rng(0).random((64, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 0, 3:].sum(axis=(1, 2))).astype(np.int64)
    train = TensorDataset(x, y)
    if augment:
        train = TransformedDataset(train, T.RandomShift(1))
    gs.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    trainer.fit(train, epochs=2, batch_size=16, verbose=0)
    return model[0].weight.data.copy()


def test_training_on_augmented_data_repeats_and_differs_from_plain_data():
    first, second, plain = _fit(True), _fit(True), _fit(False)
    assert np.array_equal(first, second)
    assert not np.allclose(first, plain)
