"""nn/container.py: Sequential, ModuleList and ModuleDict against PyTorch's (the same calls
on both give the same names, order and repr), their list and dict operations, labels for
graph pictures, and errors."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import nn
from nn import Linear, ModuleDict, ModuleList, ReLU, Sequential, Tanh


def names(module) -> list[str]:
    return [name for name, _ in module.named_parameters()]


# Each case builds a container on `lib` (nn or torch.nn) and changes it as PyTorch code does.
CASES = {
    "sequential": lambda lib: lib.Sequential(lib.Linear(3, 2), lib.ReLU(), lib.Linear(2, 1)),
    "from an OrderedDict": lambda lib: lib.Sequential(OrderedDict(
        [("fc", lib.Linear(3, 2)), ("act", lib.Tanh()), ("out", lib.Linear(2, 1))])),
    "appended": lambda lib: lib.Sequential(lib.Linear(3, 2)).append(lib.ReLU()).append(
        lib.Linear(2, 2)),
    "inserted": lambda lib: _inserted(lib.Sequential(lib.Linear(3, 2), lib.Linear(2, 2)), lib),
    "deleted": lambda lib: _deleted(lib.Sequential(lib.ReLU(), lib.Linear(3, 2),
                                                   lib.Linear(2, 2))),
    "sliced": lambda lib: lib.Sequential(lib.Linear(3, 3), lib.ReLU(), lib.Linear(3, 2),
                                         lib.Tanh())[1:3],
    "nested": lambda lib: lib.Sequential(lib.Linear(4, 3), lib.Sequential(lib.ReLU(),
                                                                          lib.Linear(3, 2))),
    "module list": lambda lib: lib.ModuleList([lib.Linear(2, 2) for _ in range(3)]),
    "list extended": lambda lib: _extended(lib.ModuleList([lib.Linear(2, 2)]), lib),
    "list sliced": lambda lib: lib.ModuleList([lib.ReLU(), lib.Linear(2, 3), lib.Linear(3, 1)])[1:],
    "module dict": lambda lib: lib.ModuleDict({"q": lib.Linear(2, 2), "act": lib.ReLU()}),
    "dict updated": lambda lib: _updated(lib.ModuleDict({"a": lib.Linear(2, 2)}), lib),
}


def _inserted(seq, lib):
    seq.insert(1, lib.ReLU())
    return seq


def _deleted(seq):
    del seq[0]
    return seq


def _extended(modules, lib):
    modules.extend([lib.ReLU(), lib.Linear(2, 1)])
    modules += [lib.Tanh()]
    modules.insert(0, lib.Linear(2, 2))
    return modules


def _updated(modules, lib):
    modules.update([("b", lib.Linear(2, 3))])
    modules["c"] = lib.Tanh()
    del modules["a"]
    return modules


@pytest.mark.parametrize("case", CASES)
def test_containers_name_and_print_their_modules_as_pytorchs(torch, case):
    ours, theirs = CASES[case](nn), CASES[case](torch.nn)
    assert names(ours) == names(theirs)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert len(ours) == len(theirs)


def test_sequential_is_indexable_sliceable_iterable_and_sized():
    layers = [Linear(3, 3), ReLU(), Linear(3, 1)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    tail = model[1:]
    assert isinstance(tail, Sequential) and list(tail) == layers[1:]
    assert names(tail) == ["2.weight", "2.bias"]  # a slice keeps the names, as PyTorch's
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(model(x).numpy(), tail(model[0](x)).numpy())
    model[1] = Tanh()
    assert isinstance(model[1], Tanh)
    assert model.pop(1).__class__ is Tanh and names(model) == ["0.weight", "0.bias",
                                                               "1.weight", "1.bias"]


def test_sequential_from_an_ordered_dict_keeps_the_names_and_order():
    model = Sequential(OrderedDict([("hidden", Linear(2, 3)), ("act", ReLU()),
                                    ("out", Linear(3, 1))]))
    assert names(model) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert model[0] is model.get_submodule("hidden")
    assert model(np.ones((4, 2), np.float32)).shape == (4, 1)


def test_module_list_and_dict_hold_modules_for_a_forward_written_by_hand():
    class Heads(nn.Module):
        def __init__(self) -> None:
            self.heads = ModuleList(Linear(4, 2) for _ in range(3))
            self.mix = ModuleDict({"out": Linear(6, 1)})

        def forward(self, x):
            return self.mix["out"](nn.functional.relu(
                __import__("engine").cat([h(x) for h in self.heads], dim=-1)))

    model = Heads()
    assert len(list(model.parameters())) == 8
    assert model(np.ones((5, 4), np.float32)).shape == (5, 1)
    assert list(model.mix) == ["out"] and "out" in model.mix
    assert [k for k, _ in model.mix.items()] == list(model.mix.keys())
    assert model.mix.pop("out") is not None and len(model.mix) == 0


def test_containers_label_their_weights_with_their_names_for_graph_pictures():
    model = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    assert [p.label for p in model.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    blocks = ModuleList([Linear(2, 2)])
    assert blocks[0].weight.label == "0.weight"


def test_labelling_keeps_user_labels_and_never_shortens_an_outer_name():
    inner = Linear(2, 2)
    inner.bias.label = "b1"
    Sequential(ReLU(), Sequential(inner))  # labels inner's weight 0.weight, then 1.0.weight
    Sequential(inner)  # a later, shorter name does not replace it
    assert inner.weight.label == "1.0.weight"
    assert inner.bias.label == "b1"


@pytest.mark.parametrize("make, error, message", [
    (lambda: Sequential(Linear(2, 2), lambda x: x), TypeError, "argument 1 is a function"),
    (lambda: Sequential(OrderedDict([("a.b", ReLU())])), KeyError, "hold no '.'"),
    (lambda: ModuleList([ReLU(), 3]), TypeError, "item 1 is a int"),
    (lambda: ModuleDict({"x": "relu"}), TypeError, "the value for 'x' is a str"),
    (lambda: Sequential(ReLU())[3], IndexError, "index 3 is out of range for a Sequential of 1"),
    (lambda: ModuleDict()["missing"], KeyError, "no module 'missing'; it holds none"),
])
def test_bad_contents_are_refused_clearly(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_held_modules_are_attributes_too_and_new_ones_join_the_state():
    # nanoGPT: self.transformer = nn.ModuleDict(dict(wte=..., h=nn.ModuleList(...)))
    body = ModuleDict({"wte": nn.Embedding(5, 3), "h": ModuleList([Linear(3, 3)])})
    assert body.wte is body["wte"] and body.h[0] is body["h"][0]
    assert getattr(Sequential(Linear(2, 2)), "0") is not None  # PyTorch's getattr(seq, "0")
    body.head = Linear(3, 5)  # an attribute that is a Module is held, as in PyTorch
    assert body["head"] is body.head and list(body) == ["wte", "h", "head"]
    assert [name for name, _ in body.named_parameters()][-2:] == ["head.weight", "head.bias"]
    body.note = "not a module"  # anything else stays a plain attribute
    assert "note" not in body and body.note == "not a module"
    with pytest.raises(AttributeError, match=r"ModuleDict has no attribute or module 'wpe'; "
                                             r"it holds 'wte', 'h', 'head'"):
        body.wpe


def test_parameter_list_and_dict_hold_parameters_named_as_pytorchs(torch):
    def model(lib, make):
        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.scales = lib.ParameterList([lib.Parameter(make(2)) for _ in range(2)])
                self.extra = lib.ParameterDict({"shift": lib.Parameter(make(3))})
        return Model()

    ours = model(nn, lambda n: np.ones(n, np.float32))
    theirs = model(torch.nn, lambda n: torch.ones(n, dtype=torch.float32))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] \
        == ["scales.0", "scales.1", "extra.shift"]
    assert repr(ours.scales) == repr(theirs.scales) and repr(ours.extra) == repr(theirs.extra)


def test_parameter_list_and_dict_behave_as_a_list_and_a_dict():
    params = nn.ParameterList([__import__("engine").zeros(2)])  # a Tensor becomes a Parameter
    params.append(nn.Parameter(np.ones(3)))
    assert len(params) == 2 and isinstance(params[0], nn.Parameter)
    assert [tuple(p.shape) for p in params] == [(2,), (3,)]
    named = nn.ParameterDict({"a": __import__("engine").zeros(1)})
    named["b"] = nn.Parameter(np.ones(1))
    assert list(named.keys()) == ["a", "b"] and "b" in named
    assert nn.Unflatten(1, (2, 3))(nn.Flatten()(np.zeros((4, 2, 3), np.float32))).shape == (4, 2, 3)
