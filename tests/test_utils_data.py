"""engine/utils/data/: datasets, samplers, collation and the DataLoader, against
torch.utils.data, and its worker processes: every item once, in order, and none left behind."""
from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine import Tensor
from engine.random import Generator, manual_seed, randn
from engine.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler,
                               Sampler, SequentialSampler, Subset, SubsetRandomSampler,
                               TensorDataset, default_collate, default_convert, get_worker_info,
                               random_split)

ROOT = Path(__file__).resolve().parents[1]
Point = collections.namedtuple("Point", "x y")


@pytest.fixture
def torch():
    """torch with its default dtype float32 (conftest's fixture sets float64, which would
    change what torch.tensor makes of a mixed list)."""
    return pytest.importorskip("torch")


def plain(batch):
    """A batch from either library as plain Python: tensors as (dtype, shape, values),
    containers with their type's name, so two batches compare with ==."""
    if type(batch).__name__ == "Tensor":  # ours or torch's
        array = np.asarray(batch.detach().numpy())
        return ("Tensor", str(array.dtype), array.shape, array.tolist())
    if isinstance(batch, dict):
        return (type(batch).__name__, {k: plain(v) for k, v in batch.items()})
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [plain(v) for v in batch])
    return batch


def no_workers_left() -> bool:
    """True when this process has no live child processes (workers of either library)."""
    return multiprocessing.active_children() == []


# --- collation, sample kind by sample kind, against PyTorch's default_collate

def samples(kind: str, as_tensor):
    """Three samples of a kind; tensors are made by as_tensor (ours or torch.from_numpy)."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    return {
        "int": [1, 2, 3],
        "float": [0.5, 1.5, -2.0],
        "bool": [True, False, True],
        "int then float": [1, 2.5, 3],
        "float32 arrays": [a, a + 1, a * 2],
        "float64 arrays": [a.astype(np.float64)] * 3,
        "int32 arrays": [a.astype(np.int32)] * 3,
        "uint8 arrays": [a.astype(np.uint8)] * 3,
        "0-d arrays": [np.array(1.5), np.array(2.5), np.array(3.5)],
        "numpy scalars": [np.float32(1), np.float32(2), np.float32(3)],
        "numpy int16 scalars": [np.int16(1), np.int16(2), np.int16(3)],
        "tensors": [as_tensor(a), as_tensor(a + 1), as_tensor(a - 1)],
        "0-d tensors": [as_tensor(np.array(i, dtype=np.int64)) for i in range(3)],
        "tuples": [(as_tensor(a[0]), 7), (as_tensor(a[1]), 8), (as_tensor(a[0]), 9)],
        "lists": [[1, 2.5, "a"], [3, 4.5, "b"], [5, 6.5, "c"]],
        "dicts": [{"x": a, "y": 1, "name": "p"}, {"x": a, "y": 2, "name": "q"},
                  {"x": a, "y": 3, "name": "r"}],
        "ordered dicts": [collections.OrderedDict(b=1.0, a=[2, 3])] * 3,
        "namedtuples": [Point(1, 2.0), Point(3, 4.0), Point(5, 6.0)],
        "nested": [({"a": (1, [a, 2.0])}, "s")] * 3,
        "strings": ["a", "bc", "def"],
        "bytes": [b"a", b"b", b"c"],
    }[kind]


KINDS = ["int", "float", "bool", "int then float", "float32 arrays", "float64 arrays",
         "int32 arrays", "uint8 arrays", "0-d arrays", "numpy scalars", "numpy int16 scalars",
         "tensors", "0-d tensors", "tuples", "lists", "dicts", "ordered dicts", "namedtuples",
         "nested", "strings", "bytes"]


def ours(a: np.ndarray) -> Tensor:
    return Tensor(a, dtype=a.dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_gives_pytorchs_types_dtypes_shapes_and_values(torch, kind):
    theirs = torch.utils.data.default_collate(samples(kind, torch.from_numpy))
    assert plain(default_collate(samples(kind, ours))) == plain(theirs)


@pytest.mark.parametrize("kind", KINDS)
def test_default_convert_matches_pytorch_on_one_sample(torch, kind):
    for mine, theirs in zip(samples(kind, ours), samples(kind, torch.from_numpy)):
        assert plain(default_convert(mine)) == plain(torch.utils.data.default_convert(theirs))


@pytest.mark.parametrize("batch, error, words", [
    ([[1, 2], [3]], RuntimeError, "same length, got lengths [1, 2]"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "dtype <U1"),
    ([np.array([None]), np.array([None])], TypeError, "dtype object"),
    ([object(), object()], TypeError, "found object"),
])
def test_default_collate_refuses_what_pytorch_refuses_and_says_what(torch, batch, error, words):
    with pytest.raises(error):
        torch.utils.data.default_collate(batch)
    with pytest.raises(error) as caught:
        default_collate(batch)
    assert words in str(caught.value)


def test_collating_tensors_of_different_shapes_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)|\(3,\).*\(2,\)"):
        default_collate([Tensor(np.zeros(2)), Tensor(np.zeros(3))])


def test_collated_tensors_keep_their_graph_as_torch_stack_does():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_array_equal(np.asarray(w.grad), [5, 5, 5])


# --- samplers, against PyTorch's

@pytest.mark.parametrize("n, batch_size", [(0, 1), (1, 1), (10, 3), (10, 5), (10, 11), (7, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_pytorch_in_batches_and_len(torch, n, batch_size, drop_last):
    theirs = torch.utils.data.BatchSampler(range(n), batch_size, drop_last)
    mine = BatchSampler(range(n), batch_size, drop_last)
    assert list(mine) == list(theirs)
    assert len(mine) == len(theirs) == len(list(mine))


def test_sequential_sampler_counts_up_the_dataset(torch):
    assert list(SequentialSampler("abcd")) == list(torch.utils.data.SequentialSampler("abcd"))
    assert len(SequentialSampler("abcd")) == 4


class NoLen(Dataset):
    def __getitem__(self, i):
        return i


@pytest.mark.parametrize("use", [
    lambda: list(SequentialSampler(NoLen())),
    lambda: RandomSampler(NoLen()),
    lambda: len(DataLoader(NoLen())),
    lambda: list(DataLoader(NoLen())),
    lambda: random_split(NoLen(), [1, 1]),
])
def test_a_dataset_without_len_is_named_where_a_length_is_needed(use):
    with pytest.raises(TypeError, match="NoLen has no __len__"):
        use()


def test_without_len_a_batch_sampler_of_ones_own_still_works():
    dl = DataLoader(NoLen(), batch_sampler=[[0, 1], [5]])
    assert plain(list(dl)) == plain([Tensor(np.array([0, 1])), Tensor(np.array([5]))])


@pytest.mark.parametrize("args, error", [
    ({"replacement": 1}, TypeError),
    ({"num_samples": 0}, ValueError),
    ({"num_samples": 2.0}, ValueError),
])
def test_random_sampler_refuses_what_pytorch_refuses(torch, args, error):
    with pytest.raises(error):
        torch.utils.data.RandomSampler(range(5), **args)
    with pytest.raises(error, match=next(iter(args))):
        RandomSampler(range(5), **args)


# --- DataLoader batching, given the same order of indices, against PyTorch's

class Pairs(Dataset):
    """Sample i is (float32 row of 3, label i % 10): the shape of an MNIST sample."""

    def __init__(self, n):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.x[i], i % 10


@given(order=st.lists(st.integers(0, 19), max_size=30),
       batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_dataloader_makes_pytorchs_batches_for_the_same_order(order, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    kwargs = dict(batch_size=batch_size, sampler=order, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(Pairs(20), **kwargs)
    mine = DataLoader(Pairs(20), **kwargs)
    assert plain(list(mine)) == plain(list(theirs))
    assert len(mine) == len(theirs)


def test_batch_sampler_and_batch_size_none_take_batches_as_given(torch):
    """The fast.ai lesson's two ways: a batch_sampler, and batch_size=None with a sampler of
    index lists handed whole to a dataset that indexes with lists."""
    x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    lists = [[3, 1], [0, 9, 2], [5]]

    class ByList(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return x[i], y[i]
    for kwargs in (dict(batch_sampler=lists), dict(batch_size=None, sampler=lists)):
        theirs = list(torch.utils.data.DataLoader(ByList(), **kwargs))
        assert plain(list(DataLoader(ByList(), **kwargs))) == plain(theirs)


def test_collate_fn_gets_the_list_of_samples(torch):
    def collate(b):
        return [s[1] for s in b]
    theirs = list(torch.utils.data.DataLoader(Pairs(7), batch_size=3, collate_fn=collate))
    assert list(DataLoader(Pairs(7), batch_size=3, collate_fn=collate)) == theirs


def test_a_dataset_with_getitems_is_asked_for_whole_batches():
    class Whole(Pairs):
        asked = []

        def __getitems__(self, indices):
            self.asked.append(indices)
            return [self[i] for i in indices]
    list(DataLoader(Whole(5), batch_size=2))
    assert Whole.asked == [[0, 1], [2, 3], [4]]


def test_tensor_dataset_rows_through_a_dataloader(torch):
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4))
    ds = TensorDataset(Tensor(x), Tensor(y))
    assert len(ds) == 6 and plain(ds[2]) == plain((Tensor(x[2]), Tensor(y[2])))
    assert plain(list(DataLoader(ds, batch_size=4))) == plain(theirs)


class Rows(TensorDataset):
    """A TensorDataset the DataLoader does not know: its batches are collated row by row."""


@pytest.mark.parametrize("drop_last", [False, True])
def test_tensor_dataset_batches_are_the_rows_collated_one_by_one(drop_last):
    x = Tensor(np.arange(30, dtype=np.float32).reshape(10, 3), requires_grad=True)
    y = np.arange(10)  # a numpy array is a tensor too; here each row's index
    batches = {}
    for kind in (TensorDataset, Rows):
        manual_seed(0)
        loader = DataLoader(kind(x, y), batch_size=4, shuffle=True, drop_last=drop_last)
        batches[kind] = list(loader)
        batches[kind][0][0].sum().backward()  # the graph reaches x through either path
    assert plain(batches[TensorDataset]) == plain(batches[Rows])
    first = np.isin(np.arange(10), np.asarray(batches[Rows][0][1]))
    tuples = DataLoader(TensorDataset(x, y), batch_sampler=[(1, 2), (0,)])  # rows, not dims
    assert plain(list(tuples)) == plain(list(DataLoader(Rows(x, y), batch_sampler=[(1, 2), (0,)])))
    np.testing.assert_array_equal(np.asarray(x.grad), 2 * first[:, None].repeat(3, 1))


def test_tensor_dataset_names_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same first dim.*\(3, 2\), \(4,\)"):
        TensorDataset(Tensor(np.zeros((3, 2))), Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="at least one dim"):
        TensorDataset(Tensor(np.float32(1)))


BAD_OPTIONS = [  # DataLoader(range(10), **options): PyTorch refuses each with a ValueError
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": -2}, "batch_size"),
    ({"batch_size": 2.0}, "batch_size"),
    ({"drop_last": 1}, "drop_last"),
    ({"sampler": [0, 1], "shuffle": True}, "shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_size was given"),
    ({"batch_sampler": [[0]], "shuffle": True}, "shuffle was given"),
    ({"batch_sampler": [[0]], "sampler": [0]}, "sampler was given"),
    ({"batch_sampler": [[0]], "drop_last": True}, "drop_last was given"),
    ({"batch_size": None, "drop_last": True}, "drop_last"),
    ({"num_workers": -1}, "num_workers"),
    ({"timeout": -1, "num_workers": 1}, "timeout"),
    ({"prefetch_factor": 2}, "prefetch_factor"),
    ({"persistent_workers": True}, "persistent_workers"),
    ({"multiprocessing_context": "fork"}, "multiprocessing_context"),
    ({"multiprocessing_context": "nope", "num_workers": 1}, "'nope'"),
]


@pytest.mark.parametrize("options, named", BAD_OPTIONS)
def test_dataloader_refuses_what_pytorch_refuses_naming_it(torch, options, named):
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(range(10), **options)
    with pytest.raises(ValueError) as caught:
        DataLoader(range(10), **options)
    assert named in str(caught.value)


def test_dataloader_refuses_at_once_what_pytorch_refuses_on_iteration():
    with pytest.raises(ValueError, match="timeout is about worker processes"):
        DataLoader(range(10), timeout=5)
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        DataLoader(range(10), collate_fn="stack")


def test_dataloader_settings_are_fixed_once_made(torch):
    for loader in (torch.utils.data.DataLoader(range(4)), DataLoader(range(4))):
        with pytest.raises(ValueError, match="batch_size attribute should not be set"):
            loader.batch_size = 2
    loader = DataLoader(range(4))
    loader.num_workers = 2  # not part of the plan of batches: may change, as in PyTorch
    assert loader.num_workers == 2


# --- IterableDataset

class Counting:
    """range(n) as a stream, split between workers as PyTorch's docs show (a stride each)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = self.worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class Stream(Counting, IterableDataset):
    worker_info = staticmethod(get_worker_info)


def torch_stream(torch, n):
    class TorchStream(Counting, torch.utils.data.IterableDataset):
        worker_info = staticmethod(torch.utils.data.get_worker_info)
    return TorchStream(n)


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3")  # PyTorch's warning
@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=4, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=3, num_workers=2),
                                    dict(batch_size=2, num_workers=3, drop_last=True)])
def test_iterable_dataset_batches_as_in_pytorch(torch, kwargs):
    theirs = torch.utils.data.DataLoader(torch_stream(torch, 11), **kwargs)
    mine = DataLoader(Stream(11), **kwargs)
    assert plain(list(mine)) == plain(list(theirs))
    assert len(mine) == len(theirs)
    assert no_workers_left()


@pytest.mark.parametrize("options", [{"shuffle": True}, {"sampler": [0]},
                                     {"batch_sampler": [[0]]}])
def test_iterable_dataset_refuses_an_order(torch, options):
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(torch_stream(torch, 3), **options)
    with pytest.raises(ValueError, match=next(iter(options))):
        DataLoader(Stream(3), **options)


# --- the bases a user subclasses: a missing method is named when it is needed

def test_a_base_class_without_its_method_says_which_to_define():
    class Table(Dataset):
        def __len__(self):
            return 3
    with pytest.raises(TypeError, match="'Table' object is not subscriptable"):
        Table()[0]  # Python's own words: Dataset leaves __getitem__ to its subclasses
    with pytest.raises(TypeError, match=r"the dataset Table does not define __getitem__, which "
                                        r"gives its samples: define __getitem__\(self, index\)"):
        DataLoader(Table(), batch_size=2)

    class Feed(IterableDataset):
        pass
    with pytest.raises(TypeError, match=r"the dataset Feed does not define __iter__, which "
                                        r"gives its samples: define __iter__\(self\)"):
        DataLoader(Feed(), batch_size=2)

    class Order(Sampler):
        def __len__(self):
            return 3
    for option in ("sampler", "batch_sampler"):
        with pytest.raises(TypeError, match=rf"the {option} Order does not define __iter__, "
                                            "which gives its indices"):
            DataLoader(range(3), **{option: Order()})
    assert list(DataLoader(range(3), sampler=[2, 0])) == [engine.tensor([2]), engine.tensor([0])]


# --- worker processes: every item once, in order, none left behind

class Items(Dataset):
    """Sample i is i; `fail_at` raises there, `exit_at` kills the worker, `sleep` slows it."""

    def __init__(self, n, fail_at=None, exit_at=None, sleep=0.0):
        self.n, self.fail_at, self.exit_at, self.sleep = n, fail_at, exit_at, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.sleep)
        if i == self.fail_at:
            raise ValueError(f"sample {i} is broken")
        if i == self.exit_at:
            os._exit(3)
        return i


@pytest.mark.parametrize("shuffle", [False, True])
def test_two_workers_yield_every_item_once_per_epoch_in_the_same_order(shuffle):
    loader = DataLoader(Items(1_000), batch_size=64, shuffle=shuffle, num_workers=2)
    for epoch in range(2):
        manual_seed(epoch)
        batches = [np.asarray(b) for b in loader]
        assert no_workers_left()
        seen = np.concatenate(batches)
        np.testing.assert_array_equal(np.sort(seen), np.arange(1_000))  # each item once
        manual_seed(epoch)
        alone = [np.asarray(b) for b in DataLoader(Items(1_000), batch_size=64,
                                                   shuffle=shuffle)]
        np.testing.assert_array_equal(seen, np.concatenate(alone))
        assert [len(b) for b in batches] == [len(b) for b in alone]
    if shuffle:
        assert not np.array_equal(seen, np.arange(1_000))


def test_breaking_out_of_the_loop_stops_the_workers_at_once():
    gc.disable()  # reference counting alone must do it
    try:
        for batch in DataLoader(Items(10_000), batch_size=8, num_workers=2):
            assert not no_workers_left()
            break
        assert no_workers_left()
    finally:
        gc.enable()


def test_an_iterator_lost_in_a_reference_cycle_stops_its_workers_when_collected():
    it = iter(DataLoader(Items(100), batch_size=8, num_workers=2))
    next(it)
    cycle = [it]
    cycle.append(cycle)
    del it, cycle
    gc.collect()
    assert no_workers_left()


def test_a_workers_error_reaches_the_main_process_with_its_traceback():
    loader = DataLoader(Items(100, fail_at=37), batch_size=4, num_workers=2)
    got = []
    with pytest.raises(ValueError) as caught:
        for batch in loader:
            got.extend(np.asarray(batch).tolist())
    message = str(caught.value)
    assert "Caught ValueError in DataLoader worker process 1" in message  # batch 9 is worker 1's
    assert 'raise ValueError(f"sample {i} is broken")' in message  # the worker's own source line
    assert "sample 37 is broken" in message and "in __getitem__" in message
    assert got == list(range(36))  # every batch before the broken one, in order
    assert no_workers_left()


def test_an_error_in_worker_init_fn_is_reported_and_stops_the_workers():
    def init(worker_id):
        raise KeyError(f"no setup for worker {worker_id}")
    with pytest.raises(KeyError) as caught:
        list(DataLoader(Items(10), num_workers=2, worker_init_fn=init))
    assert "no setup for worker 0" in str(caught.value)
    assert "\n" in str(caught.value)  # KeyError's message keeps its lines
    assert no_workers_left()


def test_a_worker_that_dies_is_named():
    with pytest.raises(RuntimeError, match=r"worker \(pid\(s\) \d+, exit code 3\) exited "
                                           "unexpectedly"):
        list(DataLoader(Items(20, exit_at=5), num_workers=2))
    assert no_workers_left()


def test_timeout_waits_that_long_for_a_batch_then_stops_the_workers():
    loader = DataLoader(Items(4, sleep=3.0), num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        next(iter(loader))
    assert no_workers_left()


def test_a_batch_that_cannot_be_pickled_is_an_error_not_a_hang():
    loader = DataLoader(Items(4), batch_size=2, num_workers=1, timeout=30,
                        collate_fn=lambda b: (lambda: b))
    with pytest.raises(Exception, match="pickling its batch for the main process") as caught:
        next(iter(loader))
    assert "DataLoader timed out" not in str(caught.value)
    assert no_workers_left()


class Whose(Dataset):
    """Sample i is (i, the pid of the process that made it, how often worker_init_fn ran there)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return i, os.getpid(), INITS[0]


INITS = [0]  # worker_init_fn's runs, in each worker's copy of this module


def count_init(worker_id):
    INITS[0] += 1


def test_persistent_workers_serve_every_epoch_and_stop_with_their_loader():
    loader = DataLoader(Whose(), batch_size=4, num_workers=2, persistent_workers=True,
                        worker_init_fn=count_init)
    epochs = []
    for _ in range(3):
        rows = [np.asarray(b[0]).tolist() for b in loader]
        assert sum(rows, []) == list(range(12))  # every sample once, in order
        pids = {p for b in loader for p in np.asarray(b[1]).tolist()}
        epochs.append(pids)
        assert not no_workers_left()  # kept for the next epoch
    assert len(epochs[0]) == 2 and epochs[0] == epochs[1] == epochs[2]  # the same workers
    assert {n for b in loader for n in np.asarray(b[2]).tolist()} == {1}  # set up once each
    del loader
    gc.collect()
    assert no_workers_left()


def test_persistent_workers_after_a_loop_left_early_give_the_next_epoch_whole():
    loader = DataLoader(Items(200), batch_size=8, num_workers=2, persistent_workers=True)
    for batch in loader:  # leaves tasks in flight, whose answers must not leak into epoch 2
        break
    assert np.concatenate([np.asarray(b) for b in loader]).tolist() == list(range(200))
    old = iter(loader)
    new = iter(loader)
    with pytest.raises(RuntimeError, match="newer epoch"):
        next(old)
    assert np.asarray(next(new)).tolist() == list(range(8))
    del loader, old, new
    gc.collect()
    assert no_workers_left()


def test_persistent_workers_begin_an_iterable_datasets_stream_again_each_epoch():
    loader = DataLoader(Stream(10), batch_size=3, num_workers=2, persistent_workers=True)
    first = sorted(sum((np.asarray(b).tolist() for b in loader), []))
    assert first == list(range(10))
    assert sorted(sum((np.asarray(b).tolist() for b in loader), [])) == first
    del loader
    gc.collect()
    assert no_workers_left()


def test_persistent_workers_stopped_by_an_error_are_started_afresh():
    loader = DataLoader(Items(40, fail_at=37), batch_size=4, num_workers=2,
                        persistent_workers=True)
    for _ in range(2):
        with pytest.raises(ValueError, match="sample 37 is broken"):
            list(loader)
        assert no_workers_left()


def test_worker_init_fn_and_get_worker_info_run_in_each_worker():
    class WhoAmI(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = get_worker_info()
            return i, info.id, info.num_workers, info.seed - BASE[0], os.getpid()
    BASE = [0]

    def init(worker_id):
        BASE[0] = get_worker_info().seed - worker_id
    assert get_worker_info() is None
    rows = [tuple(np.asarray(field).item() for field in b)
            for b in DataLoader(WhoAmI(), num_workers=2, worker_init_fn=init)]
    assert [r[:4] for r in rows] == [(i, i % 2, 2, i % 2) for i in range(6)]
    assert len({r[4] for r in rows}) == 2 and os.getpid() not in {r[4] for r in rows}


class Spawned(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return i * 10


def test_spawn_works_for_a_module_level_dataset_and_names_what_it_cannot_pickle():
    loader = DataLoader(Spawned(), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    assert [np.asarray(b).tolist() for b in loader] == [[0, 10], [20, 30], [40]]
    loader = DataLoader(Spawned(), num_workers=1, multiprocessing_context="spawn",
                        collate_fn=lambda b: b)
    with pytest.raises(RuntimeError, match="'spawn' start method, which pickles the dataset"):
        iter(loader)
    assert no_workers_left()


SCRIPT = """
import os, signal, sys, time
from engine.utils.data import DataLoader, Dataset

# Ctrl-C as in a terminal, even when the tests run where SIGINT is ignored (a job put in the
# background by a non-interactive shell), which this process would otherwise inherit
signal.signal(signal.SIGINT, signal.default_int_handler)

class Slow(Dataset):
    def __len__(self):
        return 1000
    def __getitem__(self, i):
        time.sleep(0.05)
        return os.getpid()

for pids in DataLoader(Slow(), batch_size=2, num_workers=2):
    print(*{int(p) for p in pids.numpy()}, flush=True)
"""


def worker_pids(process: subprocess.Popen) -> set[int]:
    """The pids the script's workers print, once both have printed."""
    pids: set[int] = set()
    while len(pids) < 2:
        line = process.stdout.readline()
        assert line, f"the script ended early: {process.communicate()[1]}"
        pids |= {int(p) for p in line.split()}
    return pids


def gone(pid: int, within: float) -> bool:
    """Whether process pid has ended (or ends within that many seconds)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_workers_end_when_the_main_process_is_interrupted_or_killed(how):
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        pids = worker_pids(process)
        if how == "ctrl-c":  # a terminal's Ctrl-C interrupts the whole process group
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.kill()
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    if how == "ctrl-c":
        assert "KeyboardInterrupt" in err and err.count("Traceback") == 1  # none from workers
    # Ctrl-C: the main process stops them; SIGKILL: they notice their parent is gone.
    survivors = [pid for pid in pids if not gone(pid, within=10)]
    for pid in survivors:  # leave nothing running if the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


# --- shuffling, splitting and seeds: PyTorch's numbers from the engine's generator

def test_shuffled_epochs_match_pytorch_after_the_same_seed(torch):
    manual_seed(7)
    torch.manual_seed(7)
    mine = DataLoader(range(50), batch_size=8, shuffle=True)
    theirs = torch.utils.data.DataLoader(range(50), batch_size=8, shuffle=True)
    for _ in range(3):
        assert plain(list(mine)) == plain(list(theirs))
    assert plain(randn(3)) == plain(torch.randn(3))  # and the default stream is in step


def test_a_loaders_own_generator_shuffles_as_pytorchs(torch):
    mine = DataLoader(range(30), batch_size=30, shuffle=True,
                      generator=Generator().manual_seed(3))
    theirs = torch.utils.data.DataLoader(range(30), batch_size=30, shuffle=True,
                                         generator=torch.Generator().manual_seed(3))
    for _ in range(3):
        assert plain(list(mine)) == plain(list(theirs))


@pytest.mark.parametrize("kwargs", [dict(), dict(num_samples=25), dict(num_samples=7),
                                    dict(replacement=True), dict(replacement=True, num_samples=70)])
def test_random_sampler_draws_pytorchs_indices(torch, kwargs):
    mine = RandomSampler(range(10), generator=Generator().manual_seed(11), **kwargs)
    theirs = torch.utils.data.RandomSampler(range(10), generator=torch.Generator().manual_seed(11),
                                            **kwargs)
    assert list(mine) == list(theirs) and list(mine) == list(theirs)
    assert len(mine) == len(theirs)


def test_random_sampler_draws_when_pytorchs_draws(torch):
    """Nothing at iter(), the seed of an epoch's generator at its first index: the default
    stream stays in step around it. (The permutation PyTorch draws after the last index and
    keeps nothing of shows in the next epoch: test_a_loaders_own_generator_shuffles_...)"""
    def draws(seed, sampler, randn):
        seed(4)
        indices = iter(sampler(range(6)))
        before = randn(2)
        first = [next(indices) for _ in range(6)]
        between = randn(2)
        rest = list(indices)
        return plain([before, first, between, rest, randn(2)])
    assert draws(manual_seed, RandomSampler, randn) == \
        draws(torch.manual_seed, torch.utils.data.RandomSampler, torch.randn)


def test_subset_random_sampler_and_random_split_match_pytorch(torch):
    mine = SubsetRandomSampler([5, 8, 13, 21], generator=Generator().manual_seed(2))
    theirs = torch.utils.data.SubsetRandomSampler([5, 8, 13, 21],
                                                  generator=torch.Generator().manual_seed(2))
    assert list(mine) == list(theirs)
    for lengths in ([3, 7], [0.3, 0.3, 0.4], [0.5, 0.5]):
        mine = random_split(range(10), lengths, generator=Generator().manual_seed(42))
        theirs = torch.utils.data.random_split(range(10), lengths,
                                               generator=torch.Generator().manual_seed(42))
        assert [list(s) for s in mine] == [list(s) for s in theirs]
    assert isinstance(mine[0], Subset) and mine[0][0] == theirs[0][0]


def test_random_split_names_lengths_that_do_not_fit(torch):
    with pytest.raises(ValueError, match=r"lengths \[3, 3\] sum to 6, but the dataset holds 10"):
        random_split(range(10), [3, 3])
    with pytest.warns(UserWarning, match="split 1 is empty"):
        random_split(range(2), [0.9, 0.1])


def test_workers_are_seeded_as_pytorch_seeds_them(torch):
    """Each worker's seed, and its first Python and numpy random numbers, as in PyTorch."""
    def draws(loader):
        return [tuple(np.asarray(field).item() for field in b) for b in loader]
    manual_seed(5)
    mine = draws(DataLoader(Draws(get_worker_info), num_workers=2))
    torch.manual_seed(5)
    theirs = draws(torch.utils.data.DataLoader(Draws(torch.utils.data.get_worker_info),
                                               num_workers=2))
    assert mine == theirs
    assert mine[0][0] != mine[1][0]  # two workers, two seeds


class Draws(Dataset):
    def __init__(self, worker_info):
        self.worker_info = worker_info

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.worker_info().seed, random.random(), int(np.random.randint(1 << 30))


def test_import_engine_as_torch_finds_utils_data():
    code = ("import engine as torch\n"
            "print(torch.utils.data.DataLoader(range(5), batch_size=2).__module__)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout == "engine.utils.data.dataloader\n", run.stderr  # as torch's


# --- the modules of PyTorch's names: torch.utils.data.dataloader, .dataset, .sampler, ... ---

SUBMODULES = {"dataset": {"Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split",
                          "StackDataset", "ConcatDataset", "ChainDataset"},
              "sampler": {"Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                          "BatchSampler", "WeightedRandomSampler"},
              "dataloader": {"DataLoader", "get_worker_info", "default_collate",
                             "default_convert"},
              "distributed": {"DistributedSampler"}}


def test_pytorchs_submodules_hold_the_package_names():
    import importlib

    import engine.utils.data
    for module, names in SUBMODULES.items():
        found = importlib.import_module(f"engine.utils.data.{module}")
        assert set(found.__all__) == names
        assert all(getattr(found, name) is getattr(engine.utils.data, name) for name in names)
    code = ("from engine.utils.data.dataloader import DataLoader\n"
            "from engine.utils.data.dataset import Dataset, random_split\n"
            "from engine.utils.data.sampler import RandomSampler\n"
            "import engine as torch\n"
            "print(torch.utils.data.sampler.BatchSampler.__module__)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout == "engine.utils.data.sampler\n", run.stderr


def test_the_submodules_have_what_pytorchs_have(torch):
    import importlib
    for module, names in SUBMODULES.items():
        assert set(importlib.import_module(f"torch.utils.data.{module}").__all__) == names


def test_distributed_sampler_as_recorded_from_pytorch():
    from engine.utils.data.distributed import DistributedSampler
    shuffled = DistributedSampler(range(10), num_replicas=3, rank=2, seed=7)
    shuffled.set_epoch(1)
    assert list(shuffled) == [0, 6, 8, 5] and len(shuffled) == 4
    assert list(DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)) == \
        [1, 4, 7, 0]
    assert list(DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False,
                                   drop_last=True)) == [1, 4, 7]
    assert list(DistributedSampler(range(2), num_replicas=5, rank=4, shuffle=False)) == [0]
    with pytest.raises(ValueError, match="Invalid rank 2, rank should be in the interval"):
        DistributedSampler(range(3), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="no distributed process group.*pass num_replicas"):
        DistributedSampler(range(3))


@pytest.mark.parametrize("n, shuffle, drop_last", [(10, True, False), (11, True, True),
                                                   (7, False, False), (2, True, False)])
def test_distributed_sampler_gives_each_rank_pytorchs_share(torch, n, shuffle, drop_last):
    from engine.utils.data.distributed import DistributedSampler
    for rank in range(3):
        for epoch in (0, 3):
            ours = DistributedSampler(range(n), 3, rank, shuffle, seed=5, drop_last=drop_last)
            theirs = torch.utils.data.distributed.DistributedSampler(
                range(n), 3, rank, shuffle, seed=5, drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


# --- datasets of datasets and the weighted sampler ---

def _rows(start: int, n: int) -> TensorDataset:
    return TensorDataset(Tensor(np.arange(start, start + n, dtype=np.float32)))


def test_concat_dataset_indexes_across_its_parts():
    from engine.utils.data import ConcatDataset
    both = _rows(0, 3) + _rows(10, 2)  # Dataset.__add__, as PyTorch's
    assert isinstance(both, ConcatDataset) and len(both) == 5 and both.cumulative_sizes == [3, 5]
    assert [float(both[i][0]) for i in range(5)] == [0, 1, 2, 10, 11]
    assert float(both[-1][0]) == 11 and float(both[-5][0]) == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        both[-6]
    with pytest.raises(IndexError):
        both[5]
    batches = [b[0].tolist() for b in DataLoader(both, batch_size=2)]
    assert batches == [[0, 1], [2, 10], [11]]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])


class ListStream(IterableDataset):
    def __init__(self, items: list) -> None:
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def test_chain_dataset_streams_one_after_another():
    from engine.utils.data import ChainDataset, ConcatDataset
    chained = ListStream([1, 2]) + ListStream([3])
    assert isinstance(chained, ChainDataset) and list(chained) == [1, 2, 3] and len(chained) == 3
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([ListStream([1])])
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([_rows(0, 2)]))


def test_stack_dataset_puts_samples_side_by_side():
    from engine.utils.data import StackDataset
    pairs = StackDataset(_rows(0, 3), _rows(5, 3))
    assert len(pairs) == 3 and [float(x[0]) for x in pairs[1]] == [1, 6]
    named = StackDataset(image=_rows(0, 3), label=_rows(5, 3))
    assert {k: float(v[0]) for k, v in named[2].items()} == {"image": 2, "label": 7}
    batch = next(iter(DataLoader(named, batch_size=3)))
    assert batch["label"][0].tolist() == [5, 6, 7]
    for args, kwargs, message in [((_rows(0, 3), _rows(0, 2)), {}, "Size mismatch"),
                                  ((_rows(0, 3),), {"b": _rows(0, 3)}, "both types are given"),
                                  ((), {}, "At least one dataset")]:
        with pytest.raises(ValueError, match=message):
            StackDataset(*args, **kwargs)


def test_weighted_random_sampler_draws_by_weight():
    from engine.utils.data import WeightedRandomSampler
    engine.manual_seed(0)
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 4000)
    drawn = np.array(list(sampler))
    assert len(sampler) == 4000 and set(drawn) == {1, 2}  # a zero weight is never drawn
    assert abs((drawn == 2).mean() - 0.75) < 0.03  # 3 to 1
    without = list(WeightedRandomSampler([1.0, 5.0, 0.5, 2.0], 4, replacement=False))
    assert sorted(without) == [0, 1, 2, 3]
    for kwargs, message in [({"num_samples": 0}, "num_samples should be a positive integer"),
                            ({"num_samples": 2, "replacement": 1}, "replacement should be a "
                                                                   "boolean")]:
        with pytest.raises(ValueError, match=message):
            WeightedRandomSampler([1.0, 2.0], **kwargs)
    with pytest.raises(ValueError, match=r"1d sequence but given weights have shape \(2, 1\)"):
        WeightedRandomSampler([[1.0], [2.0]], 2)


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler_draws_pytorchs_indices(torch, replacement):
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    n = 6 if not replacement else 50
    engine.manual_seed(3)
    torch.manual_seed(3)
    ours = list(engine.utils.data.WeightedRandomSampler(weights, n, replacement))
    theirs = list(torch.utils.data.WeightedRandomSampler(weights, n, replacement))
    assert ours == theirs
    g, h = engine.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert (list(engine.utils.data.WeightedRandomSampler(weights, n, replacement, generator=g))
            == list(torch.utils.data.WeightedRandomSampler(weights, n, replacement, generator=h)))


def _data(library):
    import importlib
    return importlib.import_module(f"{library.__name__}.utils.data")


def test_subset_and_stack_dataset_fetch_a_batch_by_the_datasets_getitems(library):
    D = _data(library)

    class Batched(D.Dataset):  # whose whole-batch fetch differs from its one-by-one one
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i

        def __getitems__(self, indices):
            return [100 + i for i in indices]

    class Single(D.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return -i

    assert [b.tolist() for b in D.DataLoader(D.Subset(Batched(), [3, 1]), batch_size=2)] == [
        [103, 101]]
    assert [[t.tolist() for t in b] for b in D.DataLoader(
        D.StackDataset(Batched(), Single()), batch_size=2)] == [
        [[100, 101], [0, -1]], [[102, 103], [-2, -3]]]
    assert [{k: v.tolist() for k, v in b.items()} for b in D.DataLoader(
        D.StackDataset(a=Batched(), b=Single()), batch_size=3)] == [
        {"a": [100, 101, 102], "b": [0, -1, -2]}, {"a": [103], "b": [-3]}]


def test_a_stream_that_ran_out_within_a_batch_is_not_asked_again(library):
    D = _data(library)

    class Restarting:  # stops after 3, then would yield 5 and 6
        n = 0

        def __iter__(self):
            return self

        def __next__(self):
            self.n += 1
            if self.n in (4, 7):
                raise StopIteration
            return self.n

    class Stream(D.IterableDataset):
        def __iter__(self):
            return Restarting()

    assert [b.tolist() for b in D.DataLoader(Stream(), batch_size=2)] == [[1, 2], [3]]


def test_persistent_workers_draw_one_seed_as_pytorchs(library):
    """PyTorch draws the workers' base seed when it makes their iterator, not at every
    epoch: later epochs' shuffles and the numbers after them are its own."""
    D = _data(library)
    library.manual_seed(0)
    loader = D.DataLoader(list(range(8)), batch_size=8, shuffle=True, num_workers=2,
                          persistent_workers=True)
    epochs = [[b.tolist() for b in loader] for _ in range(3)]
    assert epochs == [[[2, 0, 5, 3, 1, 4, 7, 6]], [[7, 2, 0, 5, 3, 4, 6, 1]],
                      [[0, 3, 7, 1, 6, 2, 5, 4]]]
    assert library.rand(2).tolist() == [0.455627977848053, 0.6323062777519226]


@pytest.mark.parametrize("batch, dtype", [
    ([np.int64(1), np.float32(2.5)], "float32"), ([np.int32(1), np.float16(2.5)], "float16"),
    ([np.float32(1), np.float64(2)], "float64"), ([np.int8(1), np.uint8(2)], "int16"),
    ([np.float64(1), np.float64(2)], "float64")])
def test_numpy_numbers_of_mixed_dtypes_collate_in_pytorchs_promoted_dtype(library, batch,
                                                                         dtype):
    """(numpy's promotion gave float64 for int64 with float32, where PyTorch's gives float32.)"""
    assert str(_data(library).default_collate(batch).dtype) == f"torch.{dtype}"
