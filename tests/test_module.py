"""nn/module.py: parameter discovery and names, zero_grad, train/eval, repr, checkpoints."""
from __future__ import annotations

import os
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

import nn
from engine import Tensor, Value
from nn import Linear, Module, ReLU, Sequential


class Block(Module):
    """A user module: parameters in attributes, a list, a tuple and a dict, plus non-params."""

    def __init__(self, shared: Tensor) -> None:
        self.scale = Tensor(np.ones(3), requires_grad=True)
        self.frozen = Tensor(np.ones(3))  # no requires_grad: state, but not a parameter
        self.layers = [Linear(3, 3), ReLU(), Linear(3, 2)]
        self.pair = (shared, shared)
        self.heads = {"a": Linear(2, 1), "b": Linear(2, 1, bias=False)}
        self.note = "not a parameter"

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x * self.scale if layer is self.layers[0] else x)
        return self.heads["a"](x) + self.heads["b"](x)


def test_parameters_are_found_in_attributes_lists_tuples_and_dicts_once_each():
    shared = Tensor(np.zeros(2), requires_grad=True)
    block = Block(shared)
    names = [name for name, _ in block.named_parameters()]
    # a module's own parameters first, then each sub-module's, as in PyTorch
    assert names == ["scale", "pair.0", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                     "layers.2.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight"]
    params = block.parameters()
    assert all(p.requires_grad for p in params)
    assert sum(p is shared for p in params) == 1
    assert not any(p is block.frozen for p in params)
    assert list(block.state_dict())[:3] == ["scale", "frozen", "pair.0"]  # state, not trained


def test_a_module_shared_by_two_parents_counts_once():
    inner = Linear(2, 2)
    outer = Sequential(inner, ReLU(), inner)
    assert [n for n, _ in outer.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in outer.named_modules()] == ["", "0", "1"]


def test_nested_sequential_names_are_dotted_paths():
    model = Sequential(Linear(4, 3), Sequential(ReLU(), Linear(3, 2)))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.1.weight",
                                                         "1.1.bias"]


def test_sequential_labels_its_weights_with_their_names_for_graph_pictures():
    model = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    assert [p.label for p in model.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_labelling_keeps_user_labels_and_never_shortens_an_outer_name():
    inner = Linear(2, 2)
    inner.bias.label = "b1"
    Sequential(ReLU(), Sequential(inner))  # labels inner's weight 0.weight, then 1.0.weight
    Sequential(inner)  # a later, shorter name does not replace it
    assert inner.weight.label == "1.0.weight"
    assert inner.bias.label == "b1"


def test_walking_the_parameters_leaves_labels_alone():
    model = Sequential(Linear(2, 2))
    model[0].weight.label, model[0].bias.label = "", "mine"
    for walk in (model.named_parameters, model.parameters, model.state_dict, model.zero_grad):
        list(walk() or ())
    assert (model[0].weight.label, model[0].bias.label) == ("", "mine")


def test_two_nodes_under_one_name_are_refused_before_anything_is_saved(tmp_path):
    class Clash(Module):
        def __init__(self) -> None:
            self.d = {"a": {"b": Tensor(np.ones(2), requires_grad=True)},
                      "a.b": Tensor(np.zeros(2), requires_grad=True)}  # both d.a.b

    for walk in (Clash().state_dict, Clash().parameters, lambda: Clash().save(tmp_path / "m.npz")):
        with pytest.raises(ValueError, match="both named 'd.a.b'"):
            walk()
    assert os.listdir(tmp_path) == []


def test_value_parameters_work_as_before():
    mlp = nn.scalar.MLP(2, [3, 1])
    names = [n for n, _ in mlp.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert len(names) == 3 * 3 + 4


def test_zero_grad_resets_tensor_grads_to_none_and_value_grads_to_zero():
    class Mixed(Module):
        def __init__(self) -> None:
            self.t = Tensor(np.ones(2), requires_grad=True)
            self.v = Value(1.5)

    m = Mixed()
    (m.t * 2.0).sum().backward()
    (m.v * 2).backward()
    assert m.t.grad is not None and m.v.grad == 2.0
    m.zero_grad()
    assert m.t.grad is None and m.v.grad == 0.0


def three_two_one(frozen: bool = True) -> Sequential:
    """A small MLP whose first weight, when `frozen`, is set not to train."""
    model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
    model[0].weight.requires_grad = not frozen
    return model


def test_a_frozen_weight_is_state_but_not_a_parameter():
    model = three_two_one()
    assert [n for n, _ in model.named_parameters()] == ["0.bias", "2.weight", "2.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model[0].weight.grad = Tensor(np.ones((3, 2), np.float32))
    model.zero_grad()  # a frozen weight is not the optimizer's, nor zero_grad's
    assert model[0].weight.grad is not None


@pytest.mark.parametrize("freeze", ["before saving", "after saving"])
def test_a_frozen_weight_survives_a_checkpoint_round_trip(tmp_path, freeze):
    model = three_two_one(frozen=freeze == "before saving")
    model.save(tmp_path / "m.npz")
    fresh = three_two_one()
    fresh.load(tmp_path / "m.npz")
    for i in (0, 2):
        np.testing.assert_array_equal(fresh[i].weight.data, model[i].weight.data)
        np.testing.assert_array_equal(fresh[i].bias.data, model[i].bias.data)


def test_train_and_eval_set_the_flag_in_every_submodule_and_return_self():
    model = Sequential(Linear(2, 2), Sequential(ReLU()))
    assert model.eval() is model
    assert [m.training for _, m in model.named_modules()] == [False] * 4
    assert model.train() is model
    assert all(m.training for _, m in model.named_modules())


def test_calling_a_module_without_forward_says_what_to_define():
    with pytest.raises(TypeError, match="has no forward"):
        Module()(1)


def test_repr_matches_pytorchs_for_the_same_layers(torch):
    ours = Sequential(Linear(784, 100), ReLU(), Linear(100, 10, bias=False), nn.Tanh(),
                      Sequential(nn.Sigmoid()))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                 torch.nn.Linear(100, 10, bias=False), torch.nn.Tanh(),
                                 torch.nn.Sequential(torch.nn.Sigmoid()))
    assert repr(ours) == repr(theirs)


def test_repr_of_a_user_module_names_its_children_by_attribute_path():
    text = repr(Block(Tensor(np.zeros(2), requires_grad=True)))
    assert text.startswith("Block(\n  (layers.0): Linear(in_features=3, out_features=3, bias=True)")
    assert "  (heads.b): Linear(in_features=2, out_features=1, bias=False)\n)" in text


# --- state_dict / load_state_dict ---

def test_state_dict_holds_copies_under_dotted_names():
    model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].dtype == np.float32 and state["0.weight"].shape == (3, 2)
    state["0.weight"][:] = 7  # a copy: changing it leaves the model alone
    assert not np.any(model[0].weight.data == 7)


def test_load_state_dict_copies_numbers_in_place_and_keeps_dtype():
    a, b = Sequential(Linear(3, 2)), Sequential(Linear(3, 2))
    weight = b[0].weight.numpy()
    b.load_state_dict({k: v.astype(np.float64) for k, v in a.state_dict().items()})
    assert b[0].weight.numpy() is weight and weight.dtype == np.float32
    np.testing.assert_array_equal(weight, a[0].weight.data)


def test_value_parameters_round_trip_as_0d_arrays():
    a, b = nn.scalar.MLP(2, [2, 1]), nn.scalar.MLP(2, [2, 1])
    state = a.state_dict()
    assert all(v.shape == () for v in state.values())
    b.load_state_dict(state)
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
    before = model.state_dict()
    state = dict(before)
    del state["0.bias"]
    state["9.weight"] = np.zeros(2)
    state["2.weight"] = np.zeros((1, 2))
    state["0.weight"] = np.full((3, 2), 7.0)  # fits, but must not be applied either
    state["2.bias"] = np.array(["x"])
    with pytest.raises(ValueError) as err:
        model.load_state_dict(state)
    message = str(err.value)
    assert "missing: 0.bias" in message and "unexpected: 9.weight" in message
    assert "2.weight has shape (1, 2) in the checkpoint, (2, 1) in the model" in message
    assert "2.bias holds <U1 data, not numbers" in message
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


# --- save / load ---

def make_model() -> Sequential:
    return Sequential(Linear(5, 4), ReLU(), Linear(4, 3))


def test_save_then_load_into_a_fresh_model_gives_identical_outputs(tmp_path):
    x = Tensor(np.random.default_rng(0).normal(size=(6, 5)))
    model, fresh = make_model(), make_model()
    model.save(tmp_path / "model.npz")
    assert not np.array_equal(fresh(x).data, model(x).data)
    fresh.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_a_checkpoint_is_a_plain_npz_that_numpy_reads(tmp_path):
    model = make_model()
    model.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(model.state_dict())
        np.testing.assert_array_equal(npz["2.bias"], model[2].bias.data)


def test_parameters_named_like_numpys_savez_keywords_are_saved(tmp_path):
    class Odd(Module):
        def __init__(self) -> None:
            self.file = Tensor(np.ones(2), requires_grad=True)
            self.allow_pickle = Tensor(np.zeros(1), requires_grad=True)

    a, b = Odd(), Odd()
    a.file.data[:] = 3
    a.save(tmp_path / "odd.npz")
    b.load(tmp_path / "odd.npz")
    np.testing.assert_array_equal(b.file.data, [3, 3])


def test_save_overwrites_an_existing_checkpoint(tmp_path):
    a, b, c = make_model(), make_model(), make_model()
    a.save(tmp_path / "m.npz")
    b.save(tmp_path / "m.npz")
    c.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(c[0].weight.data, b[0].weight.data)


def crash(*args, **kwargs):
    raise OSError("simulated crash")


@pytest.mark.parametrize("where", ["while writing an array", "at the rename"])
def test_a_crash_during_save_leaves_the_old_file_intact(tmp_path, monkeypatch, where):
    path = tmp_path / "m.npz"
    old = make_model()
    old.save(path)
    before = path.read_bytes()
    if where == "at the rename":
        monkeypatch.setattr(os, "replace", crash)
    else:
        real_write = np.lib.format.write_array

        def write_half_then_crash(fp, array, **kwargs):
            real_write(fp, array[: len(array) // 2], **kwargs)
            raise OSError("simulated crash")
        monkeypatch.setattr(np.lib.format, "write_array", write_half_then_crash)
    with pytest.raises(OSError, match="simulated crash"):
        make_model().save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def write_corrupt(path):
    path.write_bytes(b"\x93NUMPY but then garbage" + bytes(range(200)))


def write_truncated(path):
    make_model().save(path)
    path.write_bytes(path.read_bytes()[:300])


def write_npy(path):
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))


def write_empty(path):
    path.write_bytes(b"")


def write_pickle(path):
    path.write_bytes(pickle.dumps({"0.weight": np.zeros((5, 4))}))


@pytest.mark.parametrize("write", [write_corrupt, write_truncated, write_npy, write_empty,
                                   write_pickle])
def test_a_file_that_is_not_a_checkpoint_says_so_with_its_path(tmp_path, write):
    path = tmp_path / "bad.npz"
    write(path)
    model = make_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match="is not a scratchgrad checkpoint") as err:
        model.load(path)
    assert str(path) in str(err.value)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


class Boom:
    """Unpickling this runs code: it would create the file named in `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Boom(str(marker))))
    with pytest.raises(ValueError, match="is not a scratchgrad checkpoint"):
        make_model().load(path)
    assert not marker.exists()


def test_a_checkpoint_of_another_model_lists_the_mismatch_with_the_path(tmp_path):
    path = tmp_path / "other.npz"
    Sequential(Linear(5, 4), ReLU(), Linear(4, 2), ReLU(), Linear(2, 1)).save(path)
    with pytest.raises(ValueError) as err:
        make_model().load(path)
    message = str(err.value)
    assert str(path) in message
    assert "unexpected: 4.weight, 4.bias" in message
    assert "2.weight has shape (4, 2) in the checkpoint, (4, 3) in the model" in message


def test_loading_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        make_model().load(tmp_path / "nowhere.npz")


def test_save_errors_name_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "missing" / "m.npz"
    with pytest.raises(FileNotFoundError) as err:
        make_model().save(target)
    assert err.value.filename == str(target) and ".tmp" not in str(err.value)


def test_save_removes_what_a_killed_save_left_behind(tmp_path):
    left = tmp_path / ".m.npz.0123abcd.tmp"  # as `kill -9` during save leaves it
    left.write_bytes(b"half a checkpoint")
    os.utime(left, (0, 0))
    make_model().save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == ["m.npz"]


# --- hostile checkpoints: refused from their headers, before any data is read ---

def write_checkpoint(path, entries: dict) -> None:
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


GIB_4 = 1 << 28  # a quarter GiB: enough to see, quick to build


def npy_header(shape, descr="<f4"):
    return {"descr": descr, "fortran_order": False, "shape": shape}


HOSTILE = {
    # an extra entry of a quarter GiB of zeros (about 1 MB on disk)
    "extra-entry": (lambda good: {**good, "extra": (npy_header((GIB_4 // 4,)), GIB_4)},
                    "unexpected: extra"),
    # a known name whose header and data are a quarter GiB: the wrong shape
    "huge-shape": (lambda good: {**good, "0.weight": (npy_header((GIB_4 // 4,)), GIB_4)},
                   r"0.weight has shape \(67108864,\) in the checkpoint, \(5, 4\) in the model"),
    # a header claiming 10**12 numbers over 80 bytes of data
    "lying-header": (lambda good: {**good, "0.weight": (npy_header((10**12,)), 80)},
                     r"declares .* bytes, but its header .* makes 4,000,000,000,"),
    # a header promising the right shape, over a quarter GiB of data
    "long-data": (lambda good: {**good, "0.weight": (npy_header((5, 4)), GIB_4)},
                  "declares 268,435,"),
    "object-dtype": (lambda good: {**good, "0.bias": (npy_header((4,), "|O"), 32)},
                     "0.bias holds object data, not numbers"),
}


@pytest.mark.parametrize("make, phrase", HOSTILE.values(), ids=HOSTILE)
def test_a_hostile_checkpoint_is_refused_from_its_headers_in_little_memory(tmp_path, make, phrase):
    model = make_model()
    path = tmp_path / "hostile.npz"
    write_checkpoint(path, make(model.state_dict()))
    before = model.state_dict()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=phrase) as err:
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value)
    assert peak < 16 << 20, f"loading took {peak / 2**20:.0f} MiB"
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_checkpoint_written_by_numpys_savez_loads(tmp_path):
    model, fresh = make_model(), make_model()
    np.savez(tmp_path / "m.npz", **model.state_dict())
    fresh.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(fresh[2].weight.data, model[2].weight.data)
