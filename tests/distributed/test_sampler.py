"""DistributedSampler against PyTorch's index pattern, and DataLoader(sampler=...): the shares of
all ranks at each step are exactly one process's batch of world × batch samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gradstep.data import DataLoader, DistributedSampler, TensorDataset


def make(n: int) -> TensorDataset:
    return TensorDataset(np.arange(n * 2, dtype=np.float64).reshape(n, 2), np.arange(n))


def torch_indices(n: int, replicas: int, rank: int, drop_last: bool) -> list[int]:
    s = torch.utils.data.DistributedSampler(
        range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last
    )
    return list(s)


@given(
    n=st.integers(1, 40),
    replicas=st.integers(1, 5),
    drop_last=st.booleans(),
    data=st.data(),
)
def test_padding_striding_and_length_follow_torch(n, replicas, drop_last, data):
    rank = data.draw(st.integers(0, replicas - 1))
    ours = DistributedSampler(make(n), replicas, rank, shuffle=False, drop_last=drop_last)
    expected = torch_indices(n, replicas, rank, drop_last)
    assert list(ours) == expected
    assert len(ours) == len(expected)


@given(n=st.integers(1, 40), replicas=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_shuffled_shares_are_the_dataloaders_permutation_split_as_torch_splits(n, replicas, seed):
    ds = make(n)
    for epoch in (0, 3):
        perm = DataLoader(ds, shuffle=True, seed=seed).order(epoch)
        for rank in range(replicas):
            s = DistributedSampler(ds, replicas, rank, shuffle=True, seed=seed)
            s.set_epoch(epoch)
            assert list(s) == [int(perm[i]) for i in torch_indices(n, replicas, rank, False)]


@pytest.mark.parametrize("n", [64, 70, 30])
def test_two_ranks_of_16_see_together_what_one_process_of_32_sees(n):
    ds = make(n)
    one = DataLoader(ds, batch_size=32, shuffle=True, seed=9)
    samplers = [DistributedSampler(ds, 2, r, seed=9) for r in range(2)]
    ranks = [DataLoader(ds, batch_size=16, sampler=s) for s in samplers]
    for epoch in range(3):
        one.set_epoch(epoch)
        for loader in ranks:
            loader.set_epoch(epoch)  # passed on to the sampler
        whole = list(one)
        parts = [list(loader) for loader in ranks]
        assert len(whole) == len(parts[0]) == len(parts[1]) == len(ranks[0])
        for k, batch in enumerate(whole):
            together = np.concatenate([parts[0][k][1], parts[1][k][1]])
            assert sorted(together.tolist()) == sorted(batch[1].tolist())
            rows = np.concatenate([parts[0][k][0], parts[1][k][0]])
            assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, batch[0].tolist()))


def test_one_replica_gives_the_single_process_batches_in_order():
    ds = make(50)
    one = DataLoader(ds, batch_size=32, shuffle=True, seed=4)
    sampler = DistributedSampler(ds, num_replicas=1, rank=0, seed=4)
    mine = DataLoader(ds, batch_size=32, sampler=sampler)
    for epoch in range(2):
        one.set_epoch(epoch)
        mine.set_epoch(epoch)
        for a, b in zip(one, mine, strict=True):
            assert np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])


def test_epochs_reorder_and_repeat():
    s = DistributedSampler(make(20), 2, 1, seed=1)
    first = list(s)
    assert list(s) == first  # no set_epoch: the same order again (as in PyTorch)
    s.set_epoch(1)
    second = list(s)
    assert second != first
    assert second == s.indices(1).tolist() and first == s.indices(0).tolist()
    s.set_epoch(0)
    assert list(s) == first


def test_defaults_come_from_the_world_of_one_process():
    s = DistributedSampler(make(7))
    assert (s.num_replicas, s.rank, s.shuffle, s.seed, s.drop_last) == (1, 0, True, 0, False)
    assert sorted(s) == list(range(7))


def test_loader_with_a_plain_list_sampler():
    ds = make(10)
    loader = DataLoader(ds, batch_size=3, sampler=[9, 1, 4, 4, 0])
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[9, 1, 4], [4, 0]]
    assert "sampler=list" in repr(loader)


def test_bad_arguments_say_what_to_pass():
    ds = make(5)
    with pytest.raises(ValueError, match=r"rank 2 is not in \[0, 1\]"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be an integer >= 1"):
        DistributedSampler(ds, num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="seed"):
        DistributedSampler(ds, 1, 0, seed=-1)
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        DistributedSampler(ds, 1, 0, shuffle="yes")
    with pytest.raises(TypeError, match="dataset must have a length"):
        DistributedSampler(iter([1, 2]), 1, 0)
    with pytest.raises(ValueError, match="sampler and shuffle=True exclude each other"):
        DataLoader(ds, shuffle=True, sampler=DistributedSampler(ds, 1, 0))
    with pytest.raises(TypeError, match="sampler must be a sized iterable"):
        DataLoader(ds, sampler=iter([0, 1]))
