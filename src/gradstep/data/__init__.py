"""Data in: datasets, the DataLoader, splits and scaling, file readers and built-in datasets."""

from . import datasets, transforms
from .dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    TransformedDataset,
    check_finite,
    random_split,
)
from .idx import load_idx_pair, read_idx
from .loader import DataLoader, default_collate
from .npz import read_npz
from .readers import CSVData, DataFormatError, read_csv
from .sampler import DistributedSampler
from .split import Standardizer, one_hot, split_indices, train_val_test_split

__all__ = [
    "CSVData",
    "ConcatDataset",
    "DataFormatError",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "Standardizer",
    "Subset",
    "TensorDataset",
    "TransformedDataset",
    "check_finite",
    "datasets",
    "default_collate",
    "load_idx_pair",
    "one_hot",
    "random_split",
    "read_csv",
    "read_idx",
    "read_npz",
    "split_indices",
    "train_val_test_split",
    "transforms",
]
