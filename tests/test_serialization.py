"""engine/serialization.py: engine.save and engine.load in PyTorch's .pt format, both ways
with PyTorch (live, and through a file PyTorch wrote, so without it too), and hostile,
damaged and foreign files refused with the reason."""
from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, serialization
from engine.devices import device

FIXTURE = Path(__file__).parent / "fixtures" / "serialization" / "torch_2.13.pt"
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.bool_]


def nanogpt_checkpoint() -> dict[str, Any]:
    """What nanoGPT's train.py saves, from one AdamW step on a small model."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 3))
    optimizer = nn.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95))
    model(engine.tensor([[1, 2]])).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "model_args": {"n_layer": 1, "bias": True, "dropout": 0.0, "vocab_size": None},
            "iter_num": 2000, "best_val_loss": engine.tensor(1.4697),
            "config": {"out_dir": "out", "lr": 6e-4, "compile": False, "seed": -(2**40)}}


def as_numpy(x: Any) -> np.ndarray:
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_same(ours: Any, theirs: Any, path: str = "obj") -> None:
    """The same tree: containers of the same types, numbers equal, tensors equal in dtype,
    shape and values (tensor-likes on either side: arrays, Tensors, torch tensors)."""
    if isinstance(ours, (np.ndarray, Tensor)) or hasattr(theirs, "untyped_storage"):
        a, b = as_numpy(ours), as_numpy(theirs)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(ours, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), path
        for key in ours:
            assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(ours, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, path


# --- ours -> ours


def test_nanogpt_checkpoint_round_trip(tmp_path: Path) -> None:
    checkpoint = nanogpt_checkpoint()
    engine.save(checkpoint, tmp_path / "ckpt.pt")
    back = engine.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert_same(back["model"], checkpoint["model"])  # an OrderedDict, as PyTorch's
    assert_same(back, checkpoint)
    assert all(isinstance(v, Tensor) for v in back["model"].values())
    # what sample.py does with it
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 3))
    model.load_state_dict(back["model"])
    optimizer = nn.optim.AdamW(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(back["optimizer"])
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.95)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3)], ids=str)
def test_dtypes_and_shapes_round_trip(tmp_path: Path, dtype: type, shape: tuple) -> None:
    array = (np.arange(int(np.prod(shape))) % 3).astype(dtype).reshape(shape)
    engine.save({"a": array, "t": Tensor(array)}, tmp_path / "x.pt")
    back = engine.load(tmp_path / "x.pt")
    assert_same(back, {"a": Tensor(array), "t": Tensor(array)})


def test_views_share_one_storage_and_come_back_sharing(tmp_path: Path) -> None:
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    weight = nn.Parameter(engine.randn(3, 4))
    engine.save([grid, grid[1:], grid.T, grid[:, ::2], weight, weight, grid[::-1]], tmp_path / "v.pt")
    with zipfile.ZipFile(tmp_path / "v.pt") as zf:  # grid's views, weight, grid[::-1]'s copy
        assert sorted(n for n in zf.namelist() if "/data/" in n) == ["v/data/0", "v/data/1",
                                                                     "v/data/2"]
    back = engine.load(tmp_path / "v.pt")
    assert_same(back[:4] + back[6:], [Tensor(a) for a in (grid, grid[1:], grid.T, grid[:, ::2],
                                                          grid[::-1])])
    assert isinstance(back[4], nn.Parameter) and back[4].requires_grad
    np.testing.assert_array_equal(back[4].numpy(), weight.numpy())
    back[0][1, 0] = -1.0  # in place, as in PyTorch: its views see it
    assert back[1].numpy()[0, 0] == -1.0 and back[2].numpy()[0, 1] == -1.0
    assert np.shares_memory(back[4].numpy(), back[5].numpy())


def test_file_objects_and_mmap(tmp_path: Path) -> None:
    checkpoint = nanogpt_checkpoint()
    buffer = io.BytesIO()
    engine.save(checkpoint, buffer)
    buffer.seek(0)
    assert_same(engine.load(buffer), checkpoint)
    assert not buffer.closed  # the owner's to close
    (tmp_path / "ckpt.pt").write_bytes(buffer.getvalue())
    mapped = engine.load(tmp_path / "ckpt.pt", mmap=True)
    assert_same(mapped, checkpoint)
    mapped["model"]["1.bias"][0] = 7.0  # copy-on-write: the file keeps its numbers
    assert_same(engine.load(tmp_path / "ckpt.pt"), checkpoint)
    with pytest.raises(ValueError, match="by its path"):
        engine.load(io.BytesIO(buffer.getvalue()), mmap=True)


def test_storages_start_at_64_byte_boundaries(tmp_path: Path) -> None:
    engine.save({"a": np.ones(3, np.int8), "b": np.ones(5), "c": np.ones(7, np.float16)},
                tmp_path / "x.pt")
    with zipfile.ZipFile(tmp_path / "x.pt") as zf, open(tmp_path / "x.pt", "rb") as raw:
        for info in zf.infolist():
            if "/data/" in info.filename:
                raw.seek(info.header_offset + 26)
                lengths = np.frombuffer(raw.read(4), "<u2")
                assert (info.header_offset + 30 + lengths.sum()) % 64 == 0, info.filename


# --- what save refuses


@pytest.mark.parametrize("obj, path", [
    ({"config": {"fn": print}}, r"checkpoint\['config'\]\['fn'\] is a builtins"),
    ({"x": [1, frozenset({2, 3})]}, r"checkpoint\['x'\]\[1\] is a builtins.frozenset"),
    ({"c": np.zeros(2, np.complex64)}, r"checkpoint\['c'\] holds complex64"),
    ({"k": engine.bfloat16}, r"checkpoint\['k'\] is a engine.dtypes"),
])
def test_save_names_what_it_cannot_write(tmp_path: Path, obj: Any, path: str) -> None:
    target = tmp_path / "ckpt.pt"
    target.write_bytes(b"old")
    with pytest.raises(TypeError, match=path):
        engine.save(obj, target)
    assert target.read_bytes() == b"old"  # nothing written


def test_save_refuses_a_cycle(tmp_path: Path) -> None:
    loop: list = [1]
    loop.append({"back": loop})
    with pytest.raises(ValueError, match=r"checkpoint\[1\]\['back'\] contains itself"):
        engine.save(loop, tmp_path / "x.pt")


# --- PyTorch -> ours, through the committed file (no torch needed)


def fixture_expected() -> dict[str, Any]:
    """What tests/fixtures/serialization/README.md's recipe saved, built with the engine."""
    engine.manual_seed(0)  # nn.Embedding's weights: PyTorch's randn(5, 3), which engine draws
    wte = engine.randn(5, 3)
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    return {"model": collections.OrderedDict([("wte.weight", wte), ("lm_head.weight", wte)]),
            "transposed": grid.T, "rows": grid[1:],
            "half": np.arange(4, dtype=np.float16) / np.float16(2),
            "long": np.arange(-2, 3), "bool": np.array([True, False, True]),
            "uint8": np.arange(250, 256, dtype=np.uint8), "scalar": np.array(2.5),
            "empty": np.zeros((0, 3), np.int32), "param": np.array([1.0, -1.0], np.float32),
            "nested": {"list": [1, 2.5, "x", None, True], "tuple": (grid[0], 3),
                       "bytes": b"\x00ab"}}


def test_reads_a_checkpoint_pytorch_wrote() -> None:
    back = engine.load(FIXTURE)
    assert_same(back, fixture_expected())
    model = back["model"]
    assert np.shares_memory(model["wte.weight"].numpy(), model["lm_head.weight"].numpy())
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert not back["rows"].requires_grad


def test_pytorch_reads_the_fixture_as_expected(torch) -> None:
    """The fixture is what its recipe says (so the test above checks the right numbers)."""
    assert_same(fixture_expected(), torch.load(FIXTURE, weights_only=True))


# --- PyTorch, live


def test_pytorch_reads_what_we_write(torch, tmp_path: Path) -> None:
    checkpoint = nanogpt_checkpoint()
    grid = np.arange(6, dtype=np.float32).reshape(2, 3)
    checkpoint["tied"] = [grid, grid, grid.T, grid[1:]]
    checkpoint["param"] = nn.Parameter(engine.ones(2))
    engine.save(checkpoint, tmp_path / "ckpt.pt")
    theirs = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert_same(checkpoint, theirs)
    pointers = {t.untyped_storage().data_ptr() for t in theirs["tied"]}
    assert len(pointers) == 1  # one storage, as PyTorch's tied weights
    assert isinstance(theirs["param"], torch.nn.Parameter) and theirs["param"].requires_grad
    assert_same(checkpoint["model"], torch.load(tmp_path / "ckpt.pt", mmap=True)["model"])


def test_we_read_what_pytorch_writes(torch, tmp_path: Path) -> None:
    torch.manual_seed(0)
    emb = torch.nn.Embedding(6, 4)
    head = torch.nn.Linear(4, 6)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"wte": emb, "lm_head": head})
    grid = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    obj = {"model": model.state_dict(), "t": grid.T, "offset": grid[2:, 1:], "expanded":
           torch.ones(3, 1).expand(3, 4), "half": grid.half(), "long": grid.long(),
           "bool": grid > 5, "uint8": grid.to(torch.uint8), "scalar": torch.tensor(3),
           "empty": torch.zeros(2, 0), "param": torch.nn.Parameter(torch.ones(3)),
           "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False),
           "nested": [(1, "a"), {"b": [None, False, 1e300, 2**70]}]}
    torch.save(obj, tmp_path / "t.pt")
    back = engine.load(tmp_path / "t.pt")
    assert_same(back, obj)
    state = back["model"]
    assert np.shares_memory(state["wte.weight"].numpy(), state["lm_head.weight"].numpy())
    assert back["param"].requires_grad and not back["frozen"].requires_grad
    assert isinstance(back["frozen"], nn.Parameter)


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_we_read_the_unsigned_ints_pytorch_writes_as_raw_bytes(torch, tmp_path: Path,
                                                               dtype: str) -> None:
    numbers = torch.tensor([[1, 2, 3], [4, 5, 60000]]).to(getattr(torch, dtype))
    torch.save({"t": numbers, "view": numbers.T[1:]}, tmp_path / "u.pt")
    got = engine.load(tmp_path / "u.pt")
    assert got["t"].dtype == np.dtype(dtype) and got["t"].tolist() == numbers.tolist()
    assert got["view"].tolist() == numbers.T[1:].tolist()
    # and written back as PyTorch writes them: loaded, saved again, read by PyTorch
    engine.save(got, tmp_path / "again.pt")
    back = torch.load(tmp_path / "again.pt", weights_only=True)
    assert back["t"].dtype == numbers.dtype and back["t"].tolist() == numbers.tolist()
    assert back["view"].tolist() == numbers.T[1:].tolist()
    assert engine.load(tmp_path / "again.pt")["view"].tolist() == numbers.T[1:].tolist()


@pytest.mark.parametrize("dtype", ["bfloat16", "complex64"])
def test_dtypes_numpy_lacks_are_refused_by_name(torch, tmp_path: Path, dtype: str) -> None:
    torch.save({"w": torch.zeros(2, dtype=getattr(torch, dtype))}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match=rf"x.pt holds a tensor of torch.\w+Storage's type"):
        engine.load(tmp_path / "x.pt")


def test_legacy_format_is_refused_with_the_way_out(torch, tmp_path: Path) -> None:
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"old.pt is not a PyTorch zip checkpoint.*torch.save it"):
        engine.load(tmp_path / "old.pt")


def test_import_engine_as_torch() -> None:
    import engine as torch
    assert torch.save is serialization.save and torch.load is serialization.load


# --- hostile and damaged files


def zip_with(path: Path, pickled: bytes, **records: bytes) -> Path:
    """A zip laid out as torch.save's, holding `pickled` as its data.pkl."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickled)
        for name, data in records.items():
            zf.writestr(f"archive/data/{name}", data)
        zf.writestr("archive/version", "3\n")
    return path


def call_pickle(module: str, name: str, argument: str, protocol: int = 2) -> bytes:
    """A pickle that calls module.name(argument) when loaded: GLOBAL (protocol 2) or
    STACK_GLOBAL (protocol 4), the argument, REDUCE."""
    text = argument.encode()
    arg = pickle.BINUNICODE + len(text).to_bytes(4, "little") + text
    if protocol == 2:
        return (b"\x80\x02" + pickle.GLOBAL + f"{module}\n{name}\n".encode() + arg
                + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP)
    return (b"\x80\x04" + pickle.SHORT_BINUNICODE + bytes([len(module)]) + module.encode()
            + pickle.SHORT_BINUNICODE + bytes([len(name)]) + name.encode() + pickle.STACK_GLOBAL
            + arg + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP)


@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("module, name, code", [
    ("os", "system", "touch {}"), ("posix", "system", "touch {}"),
    ("builtins", "eval", "open({!r}, 'w')"), ("builtins", "exec", "open({!r}, 'w')"),
])
def test_a_pickle_calling_anything_else_is_refused_unrun(
        tmp_path: Path, module: str, name: str, code: str, protocol: int) -> None:
    witness = tmp_path / "pwned"
    pickled = call_pickle(module, name, code.format(str(witness)), protocol)
    pickle.loads(pickled)  # what an unrestricted load would do: it runs,
    assert witness.exists()  # so the pickle is a real attack
    witness.unlink()
    hostile = zip_with(tmp_path / "evil.pt", pickled)
    with pytest.raises(pickle.UnpicklingError,
                       match=rf"evil.pt: the pickle asks for {module}.{name}, which was refused "
                             "for safety"):
        engine.load(hostile)
    assert not witness.exists()


def test_a_pickle_cannot_modify_or_misuse_what_it_may_name(tmp_path: Path) -> None:
    build = (b"\x80\x02" + pickle.GLOBAL + b"collections\nOrderedDict\n" + pickle.EMPTY_DICT
             + pickle.BUILD + pickle.STOP)
    with pytest.raises(pickle.UnpicklingError, match="tries to modify collections.OrderedDict"):
        engine.load(zip_with(tmp_path / "b.pt", build))
    storage_call = call_pickle("torch", "FloatStorage", "x")
    with pytest.raises(pickle.UnpicklingError, match="calls torch.FloatStorage, which is a type"):
        engine.load(zip_with(tmp_path / "s.pt", storage_call))


def one_tensor_file(tmp_path: Path) -> tuple[Path, bytes]:
    engine.save({"w": np.arange(4, dtype=np.float32)}, tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "ok.pt") as zf:
        return tmp_path / "ok.pt", zf.read("ok/data.pkl")


@pytest.mark.parametrize("content", [b"", b"hello, world", b"\x80\x02}q\x00.",
                                     b"\x00" * 8 + b"{}"], ids=["empty", "text", "pickle",
                                                                "safetensors"])
def test_a_file_that_is_not_a_zip_is_named(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "model.bin").write_bytes(content)
    with pytest.raises(ValueError, match="model.bin is not a PyTorch zip checkpoint"):
        engine.load(tmp_path / "model.bin")


def test_truncated_and_corrupt_zips_are_named(tmp_path: Path) -> None:
    path, _ = one_tensor_file(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="cut.pt is a truncated or corrupt zip"):
        engine.load(tmp_path / "cut.pt")
    flipped = bytearray(data)
    flipped[data.index(np.float32(3).tobytes())] ^= 1  # one bit of the tensor's numbers
    (tmp_path / "flip.pt").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="flip.pt is a truncated or corrupt zip.*CRC"):
        engine.load(tmp_path / "flip.pt")


def test_a_storage_shorter_than_its_tensor_is_named(tmp_path: Path) -> None:
    _, pickled = one_tensor_file(tmp_path)
    short = zip_with(tmp_path / "short.pt", pickled, **{"0": b"\x00" * 12})
    with pytest.raises(ValueError, match=r"short.pt: storage archive/data/0 holds 12 bytes, "
                                         "shorter than the 4 x 4"):
        engine.load(short)
    missing = zip_with(tmp_path / "missing.pt", pickled)
    with pytest.raises(ValueError, match="missing.pt has no record archive/data/0"):
        engine.load(missing)
    # a view reaching past its storage: the size says 5 where 4 numbers are stored
    size = pickled.rindex(pickle.BININT1 + b"\x04" + pickle.TUPLE)  # the last: (4,), not numel
    past = pickled[:size + 1] + b"\x05" + pickled[size + 2:]
    with pytest.raises(ValueError, match=r"past.pt: a tensor of size \(5,\) needs 5 elements of "
                                         "its storage, which holds 4"):
        engine.load(zip_with(tmp_path / "past.pt", past, **{"0": b"\x00" * 16}))


def test_a_zip_without_a_pickle_is_named(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("stuff/readme.txt", "hi")
    with pytest.raises(ValueError, match="other.zip is a zip without stuff/data.pkl"):
        engine.load(tmp_path / "other.zip")


@pytest.mark.parametrize("where", ["cuda", "cuda:0", {"cpu": "cuda:1"},
                                   lambda storage, location: "somewhere else"],
                         ids=["cuda", "cuda:0", "dict", "function"])
def test_a_gpu_map_location_is_refused(tmp_path: Path, where: Any) -> None:
    path, _ = one_tensor_file(tmp_path)
    with pytest.raises(RuntimeError, match="cannot load .*ok.pt.*CPU"):
        engine.load(path, map_location=where)


@pytest.mark.parametrize("where", [None, "cpu", device("cpu"), {"cuda:0": "cpu"},
                                   lambda storage, location: storage])
def test_cpu_map_locations_load(tmp_path: Path, where: Any) -> None:
    path, _ = one_tensor_file(tmp_path)
    np.testing.assert_array_equal(engine.load(path, map_location=where)["w"].numpy(),
                                  np.arange(4, dtype=np.float32))



def test_what_pytorchs_weights_only_load_takes_goes_both_ways(torch, tmp_path: Path) -> None:
    """Sets, Counters (MultiStepLR's milestones), complex numbers, bytes, dtypes, devices
    and sizes, saved by either library and loaded by the other, as they were."""
    import collections
    for first, second in ((engine, torch), (torch, engine)):
        obj = {"set": {1, 2}, "counter": collections.Counter({2: 1, 4: 2}), "complex": 1 - 2j,
               "bytes": b"\x00\xffab", "bytearray": bytearray(b"xy"), "dtype": first.float16,
               "bool": first.bool, "device": first.device("cpu"),
               "size": first.ones(2, 3).shape}
        path = tmp_path / f"{first.__name__}.pt"
        first.save(obj, path, pickle_protocol=4)
        loaded = second.load(path, weights_only=True) if second is torch else second.load(path)
        assert {k: type(v).__name__ for k, v in loaded.items()} == {
            "set": "set", "counter": "Counter", "complex": "complex", "bytes": "bytes",
            "bytearray": "bytearray", "dtype": "DType" if second is engine else "dtype",
            "bool": "DType" if second is engine else "dtype", "device": "device",
            "size": "Size"}
        assert loaded["set"] == {1, 2} and loaded["counter"] == {2: 1, 4: 2}
        assert loaded["complex"] == 1 - 2j and loaded["bytes"] == b"\x00\xffab"
        assert str(loaded["dtype"]) == "torch.float16" and str(loaded["bool"]) == "torch.bool"
        assert str(loaded["device"]) == "cpu" and tuple(loaded["size"]) == (2, 3)


def test_map_location_as_a_function_gets_a_storage_it_can_call_cpu_on(tmp_path: Path) -> None:
    path = tmp_path / "t.pt"
    engine.save({"t": engine.arange(3.0)}, path)
    seen = []
    loaded = engine.load(path, map_location=lambda storage, location: (
        seen.append(location), storage.cpu())[1])
    assert loaded["t"].tolist() == [0.0, 1.0, 2.0] and seen == ["cpu"]


def test_a_damaged_header_is_named_as_a_corrupt_file(tmp_path: Path) -> None:
    """(zipfile raised NotImplementedError for a compression method a flipped byte made.)"""
    path = tmp_path / "t.pt"
    engine.save({"t": engine.arange(3.0)}, path)
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")  # the first entry of the central directory
    data[central + 10:central + 12] = (99).to_bytes(2, "little")  # its compression method
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt zip"):
        engine.load(path)


def test_one_object_under_two_names_loads_as_one(library, tmp_path: Path) -> None:
    """As pickle keeps it, and torch.save: a tensor or list held twice comes back once, so a
    change of one name's object (requires_grad, appending) reaches the other."""
    t, items = engine.ones(2), [1]
    path = tmp_path / "shared.pt"
    engine.save({"a": t, "b": t, "l1": items, "l2": items,
                 "more": [engine.ones(1) for _ in range(300)]}, path)  # (past 256 in the memo)
    loaded = library.load(path, weights_only=True) if library.__name__ == "torch" else \
        engine.load(path)
    assert loaded["a"] is loaded["b"] and loaded["l1"] is loaded["l2"]
    assert len(loaded["more"]) == 300 and loaded["more"][0] is not loaded["more"][1]
