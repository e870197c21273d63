"""nn/module.py: parameter discovery and names, zero_grad, train/eval, repr.

Checkpoints (state_dict, save, load) are tests/test_checkpoint.py's."""
from __future__ import annotations

import os

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

    for walk in (Clash().state_dict, Clash().parameters, lambda: Clash().save(tmp_path / "m.safetensors")):
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
