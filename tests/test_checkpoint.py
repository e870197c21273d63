"""nn/checkpoint.py: state_dict and load_state_dict, safetensors files both ways with PyTorch,
hostile and damaged files refused before any data is read, and the old .npz format."""
from __future__ import annotations

import collections
import contextlib
import copy
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import engine
import nn
from engine import Tensor
from nn import Linear, Module, ReLU, Sequential, checkpoint

ROOT = Path(__file__).resolve().parents[1]


def make_model() -> Sequential:
    return Sequential(Linear(5, 4), ReLU(), Linear(4, 3))


def arrays(model: Module) -> dict:
    """The model's state as numpy copies (state_dict() shares the model's memory)."""
    return {name: np.array(value) for name, value in model.state_dict().items()}


def assert_same_state(model: Module, state: dict) -> None:
    """Every tensor of the model bit-identical to `state`'s, dtype included."""
    ours = arrays(model)
    assert list(ours) == list(state)
    for name, array in state.items():
        array = np.asarray(array)
        assert ours[name].dtype == array.dtype, name
        np.testing.assert_array_equal(ours[name], array, err_msg=name)


class TorchLinear(Module):
    """torch.nn.Linear's layout, weight (out_features, in_features), y = x @ weight.T + bias,
    in a layer that is not an nn.Linear: old .npz checkpoints still load into models of these."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator) -> None:
        bound = in_features ** -0.5
        self.weight = Tensor(rng.uniform(-bound, bound, (out_features, in_features)),
                             requires_grad=True, dtype=np.float32)
        self.bias = Tensor(rng.uniform(-bound, bound, out_features), requires_grad=True,
                           dtype=np.float32)

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight.T + self.bias


class WithBuffers(Module):
    """A layer with state that does not train: a float running mean and an int64 counter."""

    def __init__(self) -> None:
        self.scale = Tensor(np.linspace(0.5, 2, 3), requires_grad=True, dtype=np.float32)
        self.running_mean = Tensor(np.arange(3), dtype=np.float32)
        self.num_batches_tracked = Tensor(np.array(7, np.int64))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.running_mean) * self.scale


# --- state_dict / load_state_dict


def test_state_dict_shares_memory_under_dotted_names_as_pytorchs():
    """As PyTorch's: detached tensors sharing the model's memory, so writing one (a weight
    loaded by hand, nanoGPT's from_pretrained) changes the model, and a copy to keep is
    copy.deepcopy's."""
    model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
    state = model.state_dict()
    kept = copy.deepcopy(state)
    assert type(state) is collections.OrderedDict
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].dtype == np.float32 and not state["0.weight"].requires_grad
    assert state["0.weight"].shape == model[0].weight.shape
    with engine.no_grad():
        state["0.weight"].copy_(engine.full((2, 3), 7.0))
    assert np.all(np.asarray(model[0].weight) == 7)
    assert not np.any(np.asarray(kept["0.weight"]) == 7)
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net.")) == ["net." + name for name in state]


def test_load_state_dict_copies_numbers_in_place_and_keeps_dtype():
    a, b = Sequential(Linear(3, 2)), Sequential(Linear(3, 2))
    weight = np.asarray(b[0].weight)
    b.load_state_dict({k: v.astype(np.float64) for k, v in arrays(a).items()})
    assert np.shares_memory(np.asarray(b[0].weight), weight) and weight.dtype == np.float32
    np.testing.assert_array_equal(weight, np.asarray(a[0].weight))


def test_value_parameters_round_trip_as_0d_arrays(tmp_path):
    a, b = nn.scalar.MLP(2, [2, 1]), nn.scalar.MLP(2, [2, 1])
    state = arrays(a)
    assert all(v.shape == () and v.dtype == np.float64 for v in state.values())
    a.save(tmp_path / "mlp.safetensors")
    b.load(tmp_path / "mlp.safetensors")
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1), WithBuffers())
    before = arrays(model)
    state = dict(before)
    del state["0.bias"]
    state["9.weight"] = np.zeros(2)
    wrong = before["2.weight"].shape[::-1]
    state["2.weight"] = np.zeros(wrong)
    state["0.weight"] = np.full(before["0.weight"].shape, 7.0)  # fits, but must not be applied
    state["2.bias"] = np.array(["x"])
    state["3.num_batches_tracked"] = np.array(7.5)  # a float would lose its fraction in int64
    with pytest.raises(ValueError) as err:
        model.load_state_dict(state)
    message = str(err.value)
    assert "missing: 0.bias" in message and "unexpected: 9.weight" in message
    assert (f"2.weight has shape {wrong} in the checkpoint, {before['2.weight'].shape} in the "
            "model") in message
    assert "2.bias holds <U1 data, not numbers" in message
    assert ("3.num_batches_tracked holds float64 numbers, which do not fit the model's int64"
            in message)
    assert_same_state(model, before)


def test_load_state_dict_not_strict_returns_what_it_left_out_as_pytorch_does(torch):
    ours = torch_layout_mlp(3, 2, 1)
    theirs = torch_twin(torch, ours)
    before = arrays(ours)
    state = {k: v + 1 for k, v in before.items() if k != "2.bias"} | {"extra": np.zeros(1)}
    result = ours.load_state_dict(state, strict=False)
    expected = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()},
                                      strict=False)
    assert result == (["2.bias"], ["extra"])
    assert (result.missing_keys, result.unexpected_keys) == (expected.missing_keys,
                                                              expected.unexpected_keys)
    assert_same_state(ours, {k: state.get(k, v) for k, v in before.items()})


def test_load_state_dict_takes_torch_tensors_and_our_tensors(torch):
    model = WithBuffers()
    state = {"scale": torch.tensor([1.0, 2.0, 3.0], requires_grad=True),  # detached for it
             "running_mean": Tensor(np.array([4.0, 5.0, 6.0], np.float32)),
             "num_batches_tracked": torch.tensor(9)}
    model.load_state_dict(state)
    assert_same_state(model, {"scale": np.float32([1, 2, 3]), "running_mean": np.float32([4, 5, 6]),
                              "num_batches_tracked": np.int64(9)})


def test_load_state_dict_names_a_tensor_numpy_cannot_hold(torch):
    model = WithBuffers()
    state = {**arrays(model), "scale": torch.ones(3, dtype=torch.bfloat16)}
    with pytest.raises(ValueError, match=r"scale cannot be read as numbers \(.*BFloat16"):
        model.load_state_dict(state)


# --- save / load


def test_save_then_load_into_a_fresh_model_gives_identical_outputs(tmp_path):
    x = Tensor(np.random.default_rng(0).normal(size=(6, 5)), dtype=np.float32)
    model, fresh = make_model(), make_model()
    model.save(tmp_path / "model.safetensors")
    assert not np.array_equal(np.asarray(fresh(x)), np.asarray(model(x)))
    fresh.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(np.asarray(fresh(x)), np.asarray(model(x)))
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind


def test_the_file_is_the_safetensors_format_byte_for_byte(tmp_path):
    """8 bytes of header length, a JSON header padded with spaces to 8, then the raw bytes."""
    model = WithBuffers()
    model.save(tmp_path / "m.safetensors", metadata={"note": "hello"})
    raw = (tmp_path / "m.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8:8 + length])
    assert header.pop("__metadata__") == {"format": "pt", "note": "hello",
                                          "scratchgrad_checkpoint": "2"}
    assert header == {"scale": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
                      "running_mean": {"dtype": "F32", "shape": [3], "data_offsets": [12, 24]},
                      "num_batches_tracked": {"dtype": "I64", "shape": [],
                                              "data_offsets": [24, 32]}}
    state = arrays(model)
    assert raw[8 + length:] == b"".join(state[k].astype(state[k].dtype.newbyteorder("<")).tobytes()
                                        for k in header)


def test_the_safetensors_package_reads_what_we_write_and_we_read_what_it_writes(tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    model = Sequential(Linear(3, 2), ReLU(), WithBuffers())
    model.save(tmp_path / "ours.safetensors")
    theirs = numpy_api.load_file(tmp_path / "ours.safetensors")
    assert_same_state(model, {k: theirs[k] for k in arrays(model)})
    doubled = {k: np.asarray(v * 2) for k, v in theirs.items()}
    numpy_api.save_file(doubled, tmp_path / "theirs.safetensors")
    model.load(tmp_path / "theirs.safetensors")
    assert_same_state(model, {k: doubled[k] for k in arrays(model)})


def test_metadata_is_kept_and_read_without_the_data(tmp_path):
    path = tmp_path / "m.safetensors"
    make_model().save(path, metadata={"hidden": "4", "λ": "ü\n"})
    assert checkpoint.read_metadata(path) == {"format": "pt", "hidden": "4", "λ": "ü\n",
                                              "scratchgrad_checkpoint": "2"}


@pytest.mark.parametrize("metadata, error, phrase", [
    ({"hidden": 4}, TypeError, "strings to strings"),
    ({"scratchgrad_checkpoint": "9"}, ValueError, "the checkpoint's own"),
])
def test_bad_metadata_is_refused_before_writing(tmp_path, metadata, error, phrase):
    with pytest.raises(error, match=phrase):
        make_model().save(tmp_path / "m.safetensors", metadata=metadata)
    assert os.listdir(tmp_path) == []


def test_saving_to_an_npz_name_says_checkpoints_are_safetensors(tmp_path):
    with pytest.raises(ValueError, match="give the file a .safetensors name"):
        make_model().save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


class Named(Module):
    """State under names a file format could trip on."""

    def __init__(self, names: list[str], start: int = 0) -> None:
        self.d = {name: Tensor(np.full(2, start + i, np.float32), requires_grad=True)
                  for i, name in enumerate(names)}


ODD_NAMES = ["a\0b", "a", "ü λ", "quote\"back\\slash", "new\nline", "file", "allow_pickle"]


def test_names_with_nul_and_other_odd_characters_save_and_load(tmp_path):
    path = tmp_path / "odd.safetensors"
    Named(ODD_NAMES).save(path)
    fresh = Named(ODD_NAMES, start=10)  # same names, other numbers
    fresh.load(path)
    assert_same_state(fresh, arrays(Named(ODD_NAMES)))


def test_the_safetensors_package_reads_odd_names_as_we_write_them(tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    Named(ODD_NAMES).save(tmp_path / "odd.safetensors")
    assert list(numpy_api.load_file(tmp_path / "odd.safetensors")) == \
        list(arrays(Named(ODD_NAMES)))


def test_a_tensor_named_like_the_metadata_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot be named '__metadata__'"):
        checkpoint.save_file({"__metadata__": np.zeros(1)}, tmp_path / "m.safetensors")


@pytest.mark.parametrize("freeze", ["before saving", "after saving"])
def test_a_frozen_weight_survives_a_checkpoint_round_trip(tmp_path, freeze):
    def three_two_one(frozen: bool = True) -> Sequential:
        model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
        model[0].weight.requires_grad = not frozen
        return model

    model = three_two_one(frozen=freeze == "before saving")
    model.save(tmp_path / "m.safetensors")
    fresh = three_two_one()
    fresh.load(tmp_path / "m.safetensors")
    assert_same_state(fresh, arrays(model))


def test_save_overwrites_an_existing_checkpoint(tmp_path):
    a, b, c = make_model(), make_model(), make_model()
    a.save(tmp_path / "m.safetensors")
    b.save(tmp_path / "m.safetensors")
    c.load(tmp_path / "m.safetensors")
    assert_same_state(c, arrays(b))


def crash(*args, **kwargs):
    raise OSError("simulated crash")


@pytest.mark.parametrize("where", ["while writing the data", "at the rename"])
def test_a_crash_during_save_leaves_the_old_file_intact(tmp_path, monkeypatch, where):
    path = tmp_path / "m.safetensors"
    make_model().save(path)
    before = path.read_bytes()
    if where == "at the rename":
        monkeypatch.setattr(os, "replace", crash)
    else:
        real = checkpoint.atomic_write

        @contextlib.contextmanager
        def header_then_crash(target):
            with real(target) as f:
                class Half:
                    def write(self, data):
                        f.write(data)
                        self.write = crash  # the header goes out, then the first array fails
                yield Half()
        monkeypatch.setattr(checkpoint, "atomic_write", header_then_crash)
    with pytest.raises(OSError, match="simulated crash"):
        make_model().save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_save_errors_name_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "missing" / "m.safetensors"
    with pytest.raises(FileNotFoundError) as err:
        make_model().save(target)
    assert err.value.filename == str(target) and ".tmp" not in str(err.value)


def test_save_removes_what_a_killed_save_left_behind(tmp_path):
    left = tmp_path / ".m.safetensors.0123abcd.tmp"  # as `kill -9` during save leaves it
    left.write_bytes(b"half a checkpoint")
    os.utime(left, (0, 0))
    make_model().save(tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_loading_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
        make_model().load(tmp_path / "nowhere.safetensors")


def test_a_checkpoint_of_another_model_lists_the_mismatch_with_the_path(tmp_path):
    path = tmp_path / "other.safetensors"
    other = Sequential(Linear(5, 4), ReLU(), Linear(4, 2), ReLU(), Linear(2, 1))
    other.save(path)
    model = make_model()
    with pytest.raises(ValueError) as err:
        model.load(path)
    message = str(err.value)
    assert message.startswith(f"checkpoint {path}: state does not fit this Sequential: ")
    assert "unexpected: 4.weight, 4.bias" in message
    assert (f"2.weight has shape {tuple(other[2].weight.shape)} in the checkpoint, "
            f"{tuple(model[2].weight.shape)} in the model") in message


# --- files that are not checkpoints, and hostile ones: refused from the header alone


def craft(path: Path, header: dict | bytes, data: bytes | int = b"", length: int | None = None):
    """A .safetensors-like file: the header (a dict to dump, or raw bytes), its announced
    length (default: the true one), then `data` (bytes, or a count of zero bytes left as a
    hole in a sparse file, which costs no disk)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw) if length is None else length) + raw)
        if isinstance(data, int):
            f.truncate(f.tell() + data)
        else:
            f.write(data)


def layout(entries: dict[str, tuple]) -> tuple[dict, int]:
    """A header of (dtype, shape[, byte count]) entries laid out back to back, as a writer
    would, and the data size; the byte count defaults to what dtype and shape need."""
    header, offset = {}, 0
    for name, (dtype, shape, *count) in entries.items():
        itemsize = np.dtype(checkpoint.DTYPES.get(dtype, "<f4")).itemsize
        size = count[0] if count else int(np.prod(shape, dtype=object)) * itemsize
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    return header, offset


GIB = 1 << 30


def hostile_cases(model: Module) -> dict[str, tuple]:
    """name -> (header, data size or bytes, announced header length or None, phrase)."""
    shapes = {name: ("F32", list(a.shape)) for name, a in arrays(model).items()}
    good, size = layout(shapes)
    w, b = good["0.weight"], good["0.bias"]

    def changed(**entries: tuple) -> tuple[dict, int]:
        return layout({**shapes, **entries})

    def edited(name: str, **fields) -> dict:
        return {**good, name: {**good[name], **fields}}

    bools, bools_size = changed(**{"0.bias": ("BOOL", b["shape"])})

    return {
        "huge shape, file too short": (changed(**{"0.weight": ("F32", [10**12])})[0], size, None,
                                       "its tensors take 4,000,000,0"),
        "huge shape, file that long": (*changed(**{"0.weight": ("F32", [GIB // 4])}), None,
                                       f"0.weight has shape ({GIB // 4},) in the checkpoint"),
        "an extra gibibyte": (*changed(extra=("F32", [GIB // 4])), None, "unexpected: extra"),
        "overlapping offsets": (edited("0.bias", data_offsets=[0, b["data_offsets"][1]
                                                               - b["data_offsets"][0]]),
                                size, None, "overlaps the tensor before it"),
        "a gap": ({k: {**v, "data_offsets": [o + 4 for o in v["data_offsets"]]}
                   for k, v in good.items()}, size + 4, None, "leaves a gap before it"),
        "offsets not the shape's size": (*changed(**{"0.weight": ("F32", w["shape"], 8)}),
                                         None, "but its data_offsets"),
        "complex numbers": (*changed(**{"0.weight": ("C64", w["shape"])}), None,
                            "0.weight holds complex64 numbers, which do not fit the model's "
                            "float32"),
        "bfloat16": (*changed(**{"0.weight": ("BF16", w["shape"], 8)}), None,
                     "'0.weight' has dtype 'BF16', which numpy cannot hold"),
        "an unknown dtype": (edited("0.weight", dtype="Q99"), size, None, "has dtype 'Q99'"),
        "a dtype that is not a string": (edited("0.weight", dtype=[4]), size, None,
                                         "has dtype [4]"),
        "BOOL bytes other than 0 and 1": (bools, bytes([2]) * bools_size, None,
                                          "'0.bias' is BOOL but holds bytes other than 0 and 1"),
        "truncated data": (good, size - 1, None, "truncated"),
        "bytes left over": (good, size + 8, None, "bytes left over"),
        "header longer than the file": (good, size, 10**6, "only"),
        "header length 2**64 - 1": (good, size, 2**64 - 1, "18,446,744,073,709,551,615 bytes"),
        "header over the model's bound": (b"{" + b" " * (3 << 20) + b"}", 0, None,
                                          "allowed (1 MiB, and 1 KiB a tensor of the model)"),
        "not JSON": (b"{not json}", 0, None, "its header is not JSON"),
        "not UTF-8": (b'{"\xff": 1}', 0, None, "its header is not JSON"),
        "not an object": (b"[1, 2]", 0, None, "its header is not a JSON object"),
        "a name twice": (b'{"0.bias": {}, "0.bias": {}}', 0, None, "names '0.bias' twice"),
        "NaN": (b'{"__metadata__": {}, "x": NaN}', 0, None, "holds NaN"),
        "deep nesting": (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", 0, None,
                         "nests too deeply"),
        "a negative size": (edited("0.weight", shape=[-4, -5]), size, None, "at most 64 sizes"),
        "sizes that are bools": (edited("0.weight", shape=[True, True]), size, None,
                                 "at most 64 sizes"),
        "sizes that are floats": (edited("0.weight", shape=[float(n) for n in w["shape"]]), size,
                                  None, "at most 64 sizes"),
        "65 dimensions": (edited("0.weight", shape=[1] * 65), size, None, "at most 64 sizes"),
        "a 5,000-digit size": (b'{"x": {"dtype": "F32", "data_offsets": [0, 4], "shape": ['
                               + b"9" * 5000 + b"]}}", 4, None, "digits"),
        "offsets the wrong way round": (edited("0.weight", data_offsets=[8, 0]), size, None,
                                        "not [begin, end]"),
        "a missing key": ({**good, "0.weight": {"dtype": "F32", "shape": w["shape"]}}, size,
                          None, "lacks a dtype, shape or data_offsets"),
        "metadata not strings": ({"__metadata__": {"hidden": 4}, **good}, size, None,
                                 "__metadata__ is not a map of strings to strings"),
        "a newer format": ({"__metadata__": {"scratchgrad_checkpoint": "3"}, **good}, size, None,
                           "format '3'; this scratchgrad reads format 2 (and PyTorch's "
                           "safetensors files): upgrade scratchgrad"),
    }


@pytest.mark.parametrize("case", hostile_cases(make_model()))
def test_a_hostile_checkpoint_is_refused_in_one_line_before_reading_data(tmp_path, case):
    model = make_model()
    header, data, length, phrase = hostile_cases(model)[case]
    path = tmp_path / "hostile.safetensors"
    craft(path, header, data, length)
    before = arrays(model)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as err:
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(err.value)
    assert phrase in message
    assert str(path) in message and "\n" not in message and len(message) < 1000
    assert peak < 16 << 20, f"refusing it took {peak / 2**20:.0f} MiB"
    assert_same_state(model, before)


def test_float_numbers_for_an_int64_buffer_are_refused_before_reading(tmp_path):
    """A float would lose its fraction in an int: refused by name, from the header."""
    model = WithBuffers()
    header, size = layout({"scale": ("F32", [3]), "running_mean": ("F32", [3]),
                           "num_batches_tracked": ("F64", [])})
    craft(tmp_path / "m.safetensors", header, size)
    with pytest.raises(ValueError, match="num_batches_tracked holds float64 numbers, which do "
                                         "not fit the model's int64"):
        model.load(tmp_path / "m.safetensors")


def write_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"0.weight": np.zeros((5, 4))}))


class Boom:
    """Unpickling this runs code: it would create the file named in `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


NOT_CHECKPOINTS = {
    "empty": (lambda path: path.write_bytes(b""), "0 bytes long, too short"),
    "seven bytes": (lambda path: path.write_bytes(b"\x10" + bytes(6)), "too short"),
    "text": (lambda path: path.write_text("hello, this is not a checkpoint\n"), "only"),
    "a pickle": (write_pickle, "only"),
    "a bare .npy": (lambda path: np.save(open(path, "wb"), np.zeros(3)), "one bare array (.npy)"),
    "cut in the header": (lambda path: path.write_bytes(path.with_name("good").read_bytes()[:40]),
                          "only"),
}


@pytest.mark.parametrize("case", NOT_CHECKPOINTS)
def test_a_file_that_is_not_a_checkpoint_says_so_with_its_path(tmp_path, case):
    write, phrase = NOT_CHECKPOINTS[case]
    make_model().save(tmp_path / "good")
    path = tmp_path / "bad.safetensors"
    write(path)
    model = make_model()
    before = arrays(model)
    with pytest.raises(ValueError, match="is not a checkpoint scratchgrad can read") as err:
        model.load(path)
    assert str(path) in str(err.value) and phrase in str(err.value)
    assert_same_state(model, before)


def test_a_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Boom(str(marker))))
    with pytest.raises(ValueError, match="is not a checkpoint scratchgrad can read"):
        make_model().load(path)
    assert not marker.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_what_is_not_a_regular_file_is_refused_without_blocking_and_in_little_memory(tmp_path):
    """A folder, a FIFO (reading one blocks until a writer comes), /dev/zero (endless), a
    link to it, and a header claiming a GiB: each refused in one line. Run in a child
    process, so a hang fails by timeout instead of stalling the suite, and its peak memory
    (ru_maxrss) is its own."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    (tmp_path / "zero").symlink_to("/dev/zero")
    craft(tmp_path / "huge", layout({"0.weight": ("F32", [GIB // 4])})[0], GIB)
    targets = ["folder", "fifo", "/dev/zero", "zero", "huge"]
    script = textwrap.dedent(f"""
        import resource, sys
        import nn
        from nn import checkpoint
        model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for target in {targets!r}:
            for read in (model.load, checkpoint.read_metadata):
                try:
                    assert read(target) in (None, {{}})
                except ValueError as e:
                    print(e)
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(f"peak grew {{grew}} KiB")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[:8] == [f"{t} is not a checkpoint: it is {kind}, not a regular file"
                         for t, kind in [("folder", "a folder"), ("fifo", "a FIFO (named pipe)"),
                                         ("/dev/zero", "a device"), ("zero", "a device")]
                         for _ in range(2)]
    assert lines[8].startswith("checkpoint huge: state does not fit this Sequential: ")
    assert f"0.weight has shape ({GIB // 4},) in the checkpoint" in lines[8]
    assert lines[9:-1] == []  # read_metadata: the header is sound, and holds no metadata
    grew = int(lines[-1].split()[2])
    assert grew < 64 << 10, f"peak memory grew by {grew} KiB"


BROKEN_HEADERS = ["header longer than the file", "not JSON", "a name twice", "deep nesting",
                  "overlapping offsets", "a gap", "truncated data", "bfloat16"]


@pytest.mark.parametrize("case", BROKEN_HEADERS)
def test_read_metadata_checks_the_whole_header_too(tmp_path, case):
    header, data, length, phrase = hostile_cases(make_model())[case]
    craft(tmp_path / "m.safetensors", header, data, length)
    with pytest.raises(ValueError, match="is not a checkpoint scratchgrad can read") as err:
        checkpoint.read_metadata(tmp_path / "m.safetensors")
    assert phrase in str(err.value)


# --- .npz, the first format


def torch_layout_mlp(*sizes: int, seed: int = 0) -> Sequential:
    """An MLP of TorchLinear layers with ReLUs between them."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [TorchLinear(fan_in, fan_out, rng), ReLU()]
    return Sequential(*layers[:-1])


@pytest.mark.parametrize("savez", [np.savez, np.savez_compressed])
def test_an_npz_loads_into_a_model_without_nn_linear(tmp_path, savez):
    model = torch_layout_mlp(5, 4, 3)
    savez(tmp_path / "m.npz", **arrays(model))
    fresh = torch_layout_mlp(5, 4, 3, seed=1)
    fresh.load(tmp_path / "m.npz")
    assert_same_state(fresh, arrays(model))
    assert checkpoint.read_metadata(tmp_path / "m.npz") == {}


def test_an_npz_is_refused_for_a_model_with_nn_linear_saying_why(tmp_path):
    model = Sequential(Linear(4, 4), ReLU(), Linear(4, 2))
    np.savez(tmp_path / "m.npz", **arrays(model))
    before = arrays(model)
    with pytest.raises(ValueError) as err:
        model.load(tmp_path / "m.npz")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'm.npz'} is an .npz checkpoint, scratchgrad's first "
                              "format, which stored nn.Linear weights as (in_features, "
                              "out_features)")
    assert ("a square weight would load transposed without a word, so the file is refused for "
            "this model (its Linear layers: 0, 2)") in message
    assert "\n" not in message
    assert_same_state(model, before)


def patch_zip(path: Path, flags: int = 0, method: int | None = None) -> None:
    """Set bits in every entry's flags and replace its compression method, in the local
    headers and the central directory alike."""
    raw = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start >= 0:
            old_flags, old_method = struct.unpack_from("<HH", raw, start + at)
            struct.pack_into("<HH", raw, start + at, old_flags | flags,
                             old_method if method is None else method)
            start = raw.find(signature, start + 4)
    path.write_bytes(bytes(raw))


def corrupt_deflate(path: Path) -> None:
    """Overwrite the middle of the first entry's deflate stream."""
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    raw = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", raw, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    raw[start + 2:start + info.compress_size - 2] = b"\xff" * (info.compress_size - 4)
    path.write_bytes(bytes(raw))


def zip_with(method: int) -> Callable[[Path, dict], None]:
    def write(path: Path, state: dict) -> None:
        with zipfile.ZipFile(path, "w", method) as archive:
            for name, array in state.items():
                with archive.open(f"{name}.npy", "w") as entry:
                    np.lib.format.write_array(entry, array)
    return write


DAMAGED_NPZ = {
    "a broken deflate stream": (lambda path, state: (np.savez_compressed(path, **state),
                                                     corrupt_deflate(path)), "damaged .npz"),
    "LZMA": (zip_with(zipfile.ZIP_LZMA), "compressed by method 14"),
    "BZIP2": (zip_with(zipfile.ZIP_BZIP2), "compressed by method 12"),
    "an unknown method": (lambda path, state: (np.savez(path, **state),
                                               patch_zip(path, method=99)), "method 99"),
    "encrypted": (lambda path, state: (np.savez(path, **state), patch_zip(path, flags=1)),
                  "is encrypted"),
    "not a zip after all": (lambda path, state: path.write_bytes(b"PK\x03\x04" + bytes(100)),
                            "damaged .npz"),
}


@pytest.mark.parametrize("case", DAMAGED_NPZ)
def test_a_damaged_npz_is_one_value_error_naming_the_file(tmp_path, case):
    write, phrase = DAMAGED_NPZ[case]
    model = torch_layout_mlp(5, 4, 3)
    path = tmp_path / "m.npz"
    write(path, arrays(model))
    fresh = torch_layout_mlp(5, 4, 3, seed=1)
    before = arrays(fresh)
    with pytest.raises(ValueError) as err:
        fresh.load(path)
    assert str(path) in str(err.value) and phrase in str(err.value)
    assert "\n" not in str(err.value)
    assert_same_state(fresh, before)


def write_npz(path: Path, entries: dict) -> None:
    """A zip of .npy entries: name -> array, or name -> (header dict, count of zero bytes after)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in entries.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                if isinstance(content, np.ndarray):
                    np.lib.format.write_array(entry, content)
                    continue
                header, zeros = content
                np.lib.format.write_array_header_1_0(entry, header)
                for start in range(0, zeros, 1 << 20):  # compressed as it goes: small in memory
                    entry.write(bytes(min(1 << 20, zeros - start)))


QUARTER_GIB = 1 << 28  # enough to see, quick to build


def npy_header(shape, descr="<f4"):
    return {"descr": descr, "fortran_order": False, "shape": shape}


HOSTILE_NPZ = {
    # an extra entry of a quarter GiB of zeros (about 1 MB on disk)
    "extra-entry": (lambda good: {**good, "extra": (npy_header((QUARTER_GIB // 4,)), QUARTER_GIB)},
                    "unexpected: extra"),
    # a known name whose header and data are a quarter GiB: the wrong shape
    "huge-shape": (lambda good: {**good, "0.weight": (npy_header((QUARTER_GIB // 4,)),
                                                      QUARTER_GIB)},
                   rf"0.weight has shape \({QUARTER_GIB // 4},\) in the checkpoint"),
    # a header claiming 10**12 numbers over 80 bytes of data
    "lying-header": (lambda good: {**good, "0.weight": (npy_header((10**12,)), 80)},
                     r"declares .* bytes, but its header .* makes 4,000,000,000,"),
    # a header promising the right shape, over a quarter GiB of data
    "long-data": (lambda good: {**good, "0.weight": (npy_header((4, 5)), QUARTER_GIB)},
                  "declares 268,435,"),
    "object-dtype": (lambda good: {**good, "0.bias": (npy_header((4,), "|O"), 32)},
                     "0.bias holds object data, not numbers"),
}


@pytest.mark.parametrize("make, phrase", HOSTILE_NPZ.values(), ids=HOSTILE_NPZ)
def test_a_hostile_npz_is_refused_from_its_headers_in_little_memory(tmp_path, make, phrase):
    model = torch_layout_mlp(5, 4, 3)
    path = tmp_path / "hostile.npz"
    write_npz(path, make(arrays(model)))
    before = arrays(model)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=phrase) as err:
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value)
    assert peak < 16 << 20, f"loading took {peak / 2**20:.0f} MiB"
    assert_same_state(model, before)


# --- to PyTorch and back


def torch_twin(torch, model: Sequential):
    """The same architecture in PyTorch, in float32: torch.nn.Linear for each TorchLinear."""
    return torch.nn.Sequential(*[
        torch.nn.Linear(m.weight.shape[1], m.weight.shape[0], dtype=torch.float32)
        if isinstance(m, TorchLinear) else torch.nn.ReLU() for m in model])


def assert_same_as_torch(model: Module, torch_state: dict) -> None:
    """Every tensor bit-identical to PyTorch's, under the same names."""
    assert_same_state(model, {name: t.detach().numpy() for name, t in torch_state.items()})


def lesson_loss(out, y):
    """The lesson's MSE of a (n, 1) output against float targets: the same code on both engines."""
    return ((out[:, 0] - y) ** 2).mean()


ROUND_TRIPS = {  # name -> (layer sizes, targets from the batch's rows, loss on each side)
    "an MLP": ((784, 32, 10), lambda rng, n: rng.integers(0, 10, n),
               (nn.cross_entropy, "cross_entropy")),
    "the lesson's model": ((784, 50, 1), lambda rng, n: rng.integers(0, 10, n).astype(np.float32),
                           (lesson_loss, lesson_loss)),
}


@pytest.mark.parametrize("case", ROUND_TRIPS)
def test_a_model_goes_to_pytorch_and_back_unchanged(tmp_path, torch, case):
    """Train on our engine, save, load into PyTorch's twin with safetensors.torch: same
    outputs (1e-6), every tensor bit-identical; train there, save, load here: the same."""
    st = pytest.importorskip("safetensors.torch")
    sizes, targets, (our_loss, their_loss) = ROUND_TRIPS[case]
    if their_loss == "cross_entropy":
        their_loss = torch.nn.functional.cross_entropy
    rng = np.random.default_rng(0)
    x = rng.random((64, sizes[0]), dtype=np.float32)
    y = targets(rng, 64)
    ours = torch_layout_mlp(*sizes)
    optimizer = nn.SGD(ours.parameters(), lr=0.1)
    for _ in range(3):
        loss = our_loss(ours(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    ours.save(tmp_path / "ours.safetensors")
    theirs = torch_twin(torch, ours)
    theirs.load_state_dict(st.load_file(tmp_path / "ours.safetensors"))
    assert_same_as_torch(ours, theirs.state_dict())
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    np.testing.assert_allclose(theirs(tx).detach().numpy(), np.asarray(ours(Tensor(x))),
                               rtol=1e-6, atol=1e-6)

    optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        their_loss(theirs(tx), ty).backward()
        optimizer.step()
    st.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load(tmp_path / "theirs.safetensors")
    assert_same_as_torch(ours, theirs.state_dict())
    np.testing.assert_allclose(np.asarray(ours(Tensor(x))), theirs(tx).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert our_loss(ours(Tensor(x)), y).item() == pytest.approx(
        their_loss(theirs(tx), ty).item(), rel=1e-6, abs=1e-6)


def test_buffers_go_to_pytorch_and_back(tmp_path, torch):
    st = pytest.importorskip("safetensors.torch")

    class TorchWithBuffers(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.zeros(3, dtype=torch.float32))
            self.register_buffer("running_mean", torch.zeros(3, dtype=torch.float32))
            self.register_buffer("num_batches_tracked", torch.tensor(0))

    ours, theirs = WithBuffers(), TorchWithBuffers()
    ours.save(tmp_path / "ours.safetensors")
    theirs.load_state_dict(st.load_file(tmp_path / "ours.safetensors"))
    assert_same_as_torch(ours, theirs.state_dict())
    theirs.running_mean += 1.5
    theirs.num_batches_tracked += 1
    st.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load(tmp_path / "theirs.safetensors")
    assert_same_as_torch(ours, theirs.state_dict())
    assert ours.num_batches_tracked.item() == 8


def test_a_pytorch_state_dict_loads_directly(torch):
    ours = torch_layout_mlp(6, 5, 2)
    theirs = torch_twin(torch, ours)
    ours.load_state_dict(theirs.state_dict())
    assert_same_as_torch(ours, theirs.state_dict())


def test_nn_linear_goes_to_pytorch_and_back_unchanged(tmp_path, torch):
    st = pytest.importorskip("safetensors.torch")
    ours = Sequential(Linear(784, 32), ReLU(), Linear(32, 10))
    ours.save(tmp_path / "ours.safetensors")
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 32, dtype=torch.float32), torch.nn.ReLU(),
                                 torch.nn.Linear(32, 10, dtype=torch.float32))
    theirs.load_state_dict(st.load_file(tmp_path / "ours.safetensors"))
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(),
                               np.asarray(ours(Tensor(x))), rtol=1e-6, atol=1e-6)
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(0.5)
    st.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load(tmp_path / "theirs.safetensors")
    assert_same_as_torch(ours, theirs.state_dict())


def test_the_gpt_of_demos_gpt_goes_to_pytorch_and_back_unchanged(tmp_path, torch):
    """Its PyTorch twin is the tests' oracle, gpt_twins.torch_loss, over the weights as loaded."""
    st = pytest.importorskip("safetensors.torch")
    from gpt_twins import torch_loss

    from demos import gpt_model as gpt

    names = ["emma", "olivia", "ava", "isabella", "sophia", "mia"]
    tokenizer = gpt.Tokenizer(names)
    config = gpt.Config(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    batch = gpt.make_batch(*gpt.encode_names(names, tokenizer, config.block_size),
                           np.arange(len(names)))
    model = gpt.GPT(config, seed=0)
    optimizer = nn.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.save(tmp_path / "ours.safetensors")
    params = {k: v.requires_grad_() for k, v in st.load_file(tmp_path / "ours.safetensors").items()}
    assert_same_as_torch(model, params)
    assert torch_loss(params, batch, config).item() == pytest.approx(
        model.loss(batch).item(), rel=1e-6, abs=1e-6)

    optimizer = torch.optim.Adam(params.values(), lr=0.01)
    torch_loss(params, batch, config).backward()
    optimizer.step()
    st.save_file({k: p.detach() for k, p in params.items()}, tmp_path / "theirs.safetensors")
    model.load(tmp_path / "theirs.safetensors")
    assert_same_as_torch(model, params)
    assert model.loss(batch).item() == pytest.approx(
        torch_loss(params, batch, config).item(), rel=1e-6, abs=1e-6)


def test_save_file_takes_torch_tensors_and_refuses_names_that_are_not_strings(tmp_path, torch):
    path = tmp_path / "m.safetensors"
    checkpoint.save_file({"scale": torch.ones(3, dtype=torch.float32, requires_grad=True),
                          "running_mean": np.zeros(3, np.float32),
                          "num_batches_tracked": np.array(3)}, path)
    model = WithBuffers()
    model.load(path)
    assert_same_state(model, {"scale": np.ones(3, np.float32),
                              "running_mean": np.zeros(3, np.float32),
                              "num_batches_tracked": np.array(3)})
    with pytest.raises(TypeError, match="tensor names are strings; got 0"):
        checkpoint.save_file({0: np.zeros(1)}, tmp_path / "n.safetensors")
