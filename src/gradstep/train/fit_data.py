"""From what ``Trainer.fit`` and ``evaluate`` are given to seeded loaders: (x, y) arrays prepared
once, sample and class weights attached as a third array, and ``validation_split``'s hold-out.

>>> train_loader, val_loader = fit_loaders(trainer, (x, y), None, 32, True, w, None, 0.2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..data.coerce import as_dataset, prepare
from ..data.dataset import Dataset, TensorDataset
from ..data.loader import DataLoader
from ..data.split import Standardizer, split_indices
from .weighting import WeightedDataset, sample_weights

__all__ = ["dataset_for", "fit_loaders", "hold_out", "loader_for"]


def dataset_for(
    trainer: Any, data: Any, what: str, sample_weight: Any = None, class_weight: Any = None
) -> Dataset:
    """The data as a prepared Dataset; with weights, a TensorDataset whose third array holds
    each sample's weight (``data`` may also be an (x, y, sample_weight) triple)."""
    if isinstance(data, tuple | list) and len(data) == 3 and sample_weight is None:
        data, sample_weight = (data[0], data[1]), data[2]
    ds = prepare(
        as_dataset(data, what),
        trainer.dtype,
        trainer.target_kind,
        what,
        loss_name=type(trainer.loss_fn).__name__,
        ignore_index=getattr(trainer.loss_fn, "ignore_index", None),
    )
    if sample_weight is None and class_weight is None:
        return ds
    if not isinstance(ds, TensorDataset) or len(ds.arrays) != 2:
        raise TypeError(
            f"{what} sample_weight / class_weight need the data as (x, y) arrays; pass "
            "arrays, or put the weights in your own Dataset and loss."
        )
    x, y = ds.arrays
    v = sample_weights(y, sample_weight, class_weight, None, what)
    return WeightedDataset(x, y, v, float_dtype=None, validate=False)


def loader_for(
    trainer: Any, data: Any, batch_size: Any, shuffle: bool, what: str, shard: bool = False
) -> DataLoader:
    """A seeded DataLoader over the data (a DataLoader passes through); its ``weighted`` says
    whether batches carry sample weights as a third array. With ``shard`` under MPI, each
    process gets its share: for training a DistributedSampler (padded, as PyTorch's), for
    validation every world-size-th sample without padding (``sharded``: results are reduced)."""
    if isinstance(data, DataLoader):
        if trainer.standardize:
            raise TypeError(
                "standardize=True needs (x, y) arrays or a TensorDataset, not a DataLoader; pass "
                "the arrays (or standardise inside your own Dataset)."
            )
        return data
    ds = data if isinstance(data, Dataset) else dataset_for(trainer, data, what)
    if trainer.standardize:
        ds = _standardized(trainer, ds, what)
    if trainer.loader_seed is None:
        trainer.loader_seed = int(_random.get_generator().integers(2**31 - 1))
    sampler = _share(ds, shuffle, what, trainer.loader_seed) if shard else None
    loader = DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        seed=trainer.loader_seed,
    )
    loader.weighted = isinstance(ds, WeightedDataset)
    loader.sharded = sampler is not None and what != "training"
    return loader


def _share(ds: Dataset, shuffle: bool, what: str, seed: int) -> Any:
    """This process's share of ``ds`` under MPI (None in one process)."""
    from ..distributed import rank, world_size

    world = world_size()
    if world == 1:
        return None
    if what == "training":
        from ..data.sampler import DistributedSampler

        return DistributedSampler(ds, world, rank(), shuffle=shuffle, seed=seed)
    return np.arange(rank(), len(ds), world)


def fit_loaders(
    trainer: Any,
    train: Any,
    val: Any,
    batch_size: Any,
    shuffle: bool,
    sample_weight: Any,
    class_weight: Any,
    validation_split: float | None,
) -> tuple[DataLoader, DataLoader | None]:
    """The training and validation loaders of a fit: weights attached, and with
    ``validation_split`` (unless ``val`` is given) a held-out share of the training data,
    stratified for class indices and shuffled with the run's seed; its indices are kept
    in ``validation_indices`` (and in the saved state, so a resumed run holds out the same)."""
    if isinstance(train, DataLoader):
        if sample_weight is not None or class_weight is not None or validation_split:
            raise TypeError(
                "sample_weight, class_weight and validation_split need (x, y) arrays or a "
                "Dataset, not a DataLoader; pass the arrays."
            )
        tr = train
    else:
        ds = dataset_for(trainer, train, "training", sample_weight, class_weight)
        if validation_split is not None and val is None:
            ds, val = hold_out(trainer, ds, validation_split)
        tr = loader_for(trainer, ds, batch_size, shuffle, "training", shard=True)
    vl = None if val is None else loader_for(trainer, val, 256, False, "validation", shard=True)
    return tr, vl


def hold_out(trainer: Any, ds: Dataset, fraction: float) -> tuple[Dataset, Dataset]:
    """(training part, validation part) of ``ds`` for ``validation_split``."""
    if not isinstance(fraction, float | int) or not 0 < fraction < 1:
        raise ValueError(f"validation_split must be a fraction in (0, 1), got {fraction!r}.")
    if not isinstance(ds, TensorDataset) or len(ds.arrays) < 2:
        raise TypeError("validation_split needs (x, y) arrays or a TensorDataset.")
    arrays = ds.arrays
    kind = type(ds)  # keeps the weights' marker
    n = len(arrays[0])
    if trainer.validation_indices is None or len(trainer.validation_indices) != round(fraction * n):
        if trainer.loader_seed is None:
            trainer.loader_seed = int(_random.get_generator().integers(2**31 - 1))
        y = arrays[1]
        stratify = trainer.target_kind == "index" and y.ndim == 1 and y.dtype.kind in "iu"
        _, va, _ = split_indices(n, y, fraction, 0.0, trainer.loader_seed, stratify)
        trainer.validation_indices = np.sort(va)
    keep = np.ones(n, dtype=bool)
    keep[trainer.validation_indices] = False
    va = trainer.validation_indices
    return (
        kind(*(a[keep] for a in arrays), float_dtype=None, validate=False),
        kind(*(a[va] for a in arrays), float_dtype=None, validate=False),
    )


def _standardized(trainer: Any, ds: Dataset, what: str) -> Dataset:
    """``ds`` with its inputs standardised by the trainer's scaler, fitted here on the first
    training data it sees (after any validation hold-out)."""
    if not isinstance(ds, TensorDataset):
        raise TypeError(
            f"standardize=True needs {what} data as (x, y) arrays or a TensorDataset, got "
            f"{type(ds).__name__}."
        )
    x, *rest = ds.arrays
    if trainer.scaler is None:
        if what != "training":
            raise ValueError(
                "standardize=True fits its statistics on the training data: call fit before "
                f"{what}."
            )
        trainer.scaler = Standardizer().fit(x)
    x = trainer.scaler.transform(x).astype(trainer.dtype, copy=False)
    return type(ds)(x, *rest, float_dtype=None, validate=False)
