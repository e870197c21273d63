"""Datasets, samplers and the DataLoader: how a training loop gets its minibatches, as
torch.utils.data.

A DataLoader is four small pieces in a row, each one replaceable:

    dataset[i]            one sample, e.g. (image, label)        Dataset, TensorDataset, Subset,
                                                                 ConcatDataset, StackDataset
    sampler               the order of the indices i             SequentialSampler, RandomSampler,
                                                                 WeightedRandomSampler
    batch sampler         those indices in groups of batch_size  BatchSampler
    collate_fn(samples)   a group of samples -> one batch        default_collate

so one epoch is `for indices in batch_sampler: yield collate_fn([dataset[i] for i in indices])`,
which is what `DataLoader._batches` does. `shuffle=True` means a RandomSampler, which draws
from the engine's generator (engine/random.py, PyTorch's numbers): after the same
`manual_seed`, a DataLoader shuffles exactly as PyTorch's does.

With `num_workers > 0` worker processes do the fetching and collating, each on its own
copy of the dataset, while the main process trains: that part is engine/utils/workers.py.
The batches come in the same order as without workers.

The pieces live in modules of PyTorch's names, so that imports such as `from
torch.utils.data.dataloader import DataLoader` work with `engine` for `torch`: dataset.py,
sampler.py, dataloader.py, distributed.py (DistributedSampler), and collate.py
(torch.utils.data._utils.collate).
"""
from __future__ import annotations

from engine.utils.data.collate import default_collate, default_convert
from engine.utils.data.dataloader import DataLoader, get_worker_info
from engine.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                       StackDataset, Subset, TensorDataset, random_split)
from engine.utils.data.distributed import DistributedSampler
from engine.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                       SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split",
           "ConcatDataset", "ChainDataset", "StackDataset", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "default_collate", "default_convert", "DataLoader",
           "get_worker_info"]
