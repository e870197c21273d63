"""nn/module.py and nn/parameter.py: parameter and buffer discovery and names, PyTorch's
registering calls, children and modules, zero_grad, train/eval, freezing, devices and
dtypes, apply, repr.

Checkpoints (state_dict, save, load) are tests/test_checkpoint.py's."""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, Value
from nn import Linear, Module, Parameter, ReLU, Sequential


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
    params = list(block.parameters())
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

    for walk in (Clash().state_dict, lambda: list(Clash().parameters()),
                 lambda: Clash().save(tmp_path / "m.safetensors")):
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


def test_a_frozen_parameter_stays_a_parameter_as_in_pytorch():
    model = three_two_one()
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                         "2.bias"]
    assert not model[0].weight.requires_grad
    model.requires_grad_(True)  # found again, because it is an nn.Parameter
    assert all(p.requires_grad for p in model.parameters())


def test_a_plain_tensor_is_a_parameter_while_it_requires_grad_and_a_buffer_otherwise():
    class Plain(Module):
        def __init__(self) -> None:
            self.w = Tensor(np.ones(2), requires_grad=True)
            self.mask = Tensor(np.ones(2, bool))

    plain = Plain()
    assert [n for n, _ in plain.named_parameters()] == ["w"]
    assert [n for n, _ in plain.named_buffers()] == ["mask"]
    plain.w.requires_grad_(False)
    assert [n for n, _ in plain.named_buffers()] == ["w", "mask"]


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


# --- PyTorch's registering calls and walks ---

def with_buffers(torch):
    """A module in PyTorch's style on `torch` (ours: engine): super().__init__(), registered
    buffers, a parameter that is absent, a child."""

    class WithBuffers(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("running", torch.zeros(3))
            self.register_buffer("scratch", torch.zeros(3), persistent=False)
            self.register_parameter("bias", None)
            self.add_module("inner", torch.nn.Linear(3, 2))

        def forward(self, x):
            return self.inner(x * self.weight + self.running)
    return WithBuffers()


def WithBuffers() -> Module:
    return with_buffers(engine)


def test_buffers_parameters_and_state_have_pytorchs_names_and_order(torch):
    ours, theirs = WithBuffers(), with_buffers(torch)
    for walk in ("named_parameters", "named_buffers", "named_children", "named_modules"):
        assert [n for n, _ in getattr(ours, walk)()] == [n for n, _ in getattr(theirs, walk)()]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # no non-persistent buffer


def test_a_non_persistent_buffer_is_a_buffer_outside_the_state_dict():
    module = WithBuffers()
    assert [n for n, _ in module.named_buffers()] == ["running", "scratch"]
    assert list(module.state_dict()) == ["weight", "running", "inner.weight", "inner.bias"]
    module.register_buffer("scratch", module.scratch)  # persistent again
    assert "scratch" in module.state_dict()


def test_walks_take_pytorchs_arguments():
    module = WithBuffers()
    assert [n for n, _ in module.named_parameters(recurse=False)] == ["weight"]
    assert [n for n, _ in module.named_parameters(prefix="m")] == ["m.weight", "m.inner.weight",
                                                                    "m.inner.bias"]
    assert list(module.children()) == [module.inner]
    assert list(module.modules()) == [module, module.inner]
    assert module.get_submodule("inner") is module.inner
    with pytest.raises(AttributeError, match="no sub-module 'outer'"):
        module.get_submodule("outer")


def test_get_parameter_get_buffer_and_set_submodule_by_dotted_name(library):
    net = library.nn.Sequential(library.nn.Linear(2, 3), library.nn.BatchNorm1d(3))
    assert net.get_parameter("0.weight") is net[0].weight
    assert net.get_buffer("1.running_mean") is net[1].running_mean
    for get, name in ((net.get_parameter, "1.running_mean"), (net.get_buffer, "0.bias"),
                      (net.get_parameter, "0.nothing")):
        with pytest.raises(AttributeError):
            get(name)
    replacement = library.nn.Linear(2, 3, bias=False)
    net.set_submodule("0", replacement)
    assert net[0] is replacement and net.get_parameter("0.weight") is replacement.weight
    net.set_submodule("0", library.nn.Identity(), strict=True)  # replaces a sub-module
    assert isinstance(net[0], library.nn.Identity)
    with pytest.raises(AttributeError):  # strict: only a sub-module that is there
        net.set_submodule("2", library.nn.ReLU(), strict=True)
    tied = library.nn.Module()
    tied.a = tied.b = library.nn.Linear(1, 1)
    assert tied.get_parameter("b.weight") is tied.a.weight  # a tied one under either name


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.register_buffer("a.b", Tensor(np.ones(1))), KeyError, "hold no '.'"),
    (lambda m: m.register_buffer(3, Tensor(np.ones(1))), TypeError, "name must be a string"),
    (lambda m: m.register_buffer("b", np.ones(1)), TypeError, "takes a Tensor or None"),
    (lambda m: m.register_parameter("p", Tensor(np.ones(1))), TypeError,
     r"wrap a tensor as nn.Parameter\(t\)"),
    (lambda m: m.add_module("m", lambda x: x), TypeError, "takes a Module or None"),
    (lambda m: m.train("yes"), ValueError, "takes a bool"),
    (lambda m: m.to("cuda"), RuntimeError, "CPU only"),
    (lambda m: m.cuda(), RuntimeError, "CPU only"),
    (lambda m: m.to(np.int64), TypeError, "only takes a float dtype"),
])
def test_bad_registrations_and_settings_are_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call(WithBuffers())


def test_parameter_is_a_leaf_tensor_that_requires_grad_and_shares_its_data(torch):
    data = Tensor(np.arange(3.0))
    p = Parameter(data)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert np.shares_memory(p.numpy(), data.numpy())
    assert not Parameter(data, requires_grad=False).requires_grad
    assert type(p * 2) is Tensor  # results of ops are plain tensors, as in PyTorch
    torch.set_default_dtype(torch.float32)  # as ours, so that neither prints its dtype
    assert repr(Parameter(Tensor(np.zeros(2, np.float32)))) == repr(
        torch.nn.Parameter(torch.zeros(2, dtype=torch.float32)))
    with pytest.raises(TypeError, match="only float tensors can require grad"):
        Parameter(Tensor(np.arange(3)))


# --- training switches ---

def test_zero_grad_without_set_to_none_zeroes_in_place():
    model = Sequential(Linear(2, 2))
    model(np.ones((1, 2), np.float32)).sum().backward()
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and not grad.numpy().any()
    model.zero_grad()
    assert model[0].weight.grad is None


def test_requires_grad_freezes_and_thaws_every_parameter():
    model = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    assert not model(np.ones((1, 2), np.float32)).requires_grad
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_casts_change_every_float_parameter_and_buffer_in_place():
    module = WithBuffers()
    weight = module.weight
    module(np.ones((1, 3), np.float32)).sum().backward()
    assert module.double() is module and module.weight is weight
    assert {t.dtype for t in (*module.parameters(), *module.buffers())} == {np.dtype(np.float64)}
    assert weight.grad.dtype == np.float64
    assert module.to(engine.float32).weight.dtype == np.float32
    assert module.half().running.dtype == np.float16
    assert module.float().to("cpu").cpu() is module


def test_apply_visits_children_before_their_parent_as_pytorch():
    model = Sequential(Linear(2, 2), Sequential(ReLU(), Linear(2, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]


def test_apply_reinitialises_weights_as_pytorch_code_does(torch):
    def init(lib, m):
        if isinstance(m, lib.Linear):
            lib.init.normal_(m.weight, mean=0.0, std=0.02)
            lib.init.zeros_(m.bias)

    engine.manual_seed(5)
    torch.manual_seed(5)
    ours = Sequential(Linear(4, 3), ReLU(), Linear(3, 2)).apply(lambda m: init(nn, m))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3, dtype=torch.float32), torch.nn.ReLU(),
                                 torch.nn.Linear(3, 2, dtype=torch.float32))
    theirs.apply(lambda m: init(torch.nn, m))
    for name, array in ours.state_dict().items():
        np.testing.assert_array_equal(array, theirs.state_dict()[name].numpy(), err_msg=name)


def test_repr_of_a_module_with_sizes_and_children_matches_pytorchs(torch):
    def net(lib):
        class Net(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layers = lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [lib.ReLU()])
                self.norm = lib.LayerNorm(2)

            def extra_repr(self) -> str:
                return "two features"
        return Net()

    assert repr(net(nn)) == repr(net(torch.nn))


# --- the ways fast.ai's lesson 04_minibatch_training holds its layers, on both libraries ---

def lesson_models(torch) -> dict:
    """The lesson's models on `torch` (ours: engine), built after manual_seed(1)."""
    lib = torch.nn

    def layers() -> list:
        return [lib.Linear(4, 3), lib.ReLU(), lib.Linear(3, 2)]

    class CallsItsList(lib.Module):  # the first Model: a plain list and its own __call__
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers()

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    class Registered(lib.Module):  # the list again, each layer registered by add_module
        def __init__(self, layers: list) -> None:
            super().__init__()
            self.layers = layers
            for i, layer in enumerate(layers):
                self.add_module(f"layer_{i}", layer)

        def forward(self, x):
            return functools.reduce(lambda value, layer: layer(value), self.layers, x)

    class InModuleList(lib.Module):
        def __init__(self, layers: list) -> None:
            super().__init__()
            self.layers = lib.ModuleList(layers)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    torch.manual_seed(1)
    bare = lib.Module()  # attributes set after it is made
    bare.foo = lib.Linear(4, 2)
    return {"bare": bare, "calls its list": CallsItsList(), "registered": Registered(layers()),
            "in a ModuleList": InModuleList(layers()), "Sequential": lib.Sequential(*layers())}


@pytest.fixture
def lesson(torch) -> tuple[dict, dict]:
    torch.set_default_dtype(torch.float32)  # as ours, so both draw the same weights
    return lesson_models(engine), lesson_models(torch)


@pytest.mark.parametrize("name", ["bare", "registered", "in a ModuleList", "Sequential"])
def test_the_lessons_modules_name_print_and_compute_as_pytorchs(torch, lesson, name):
    ours, theirs = lesson[0][name], lesson[1][name]
    assert repr(ours) == repr(theirs)
    for walk in ("named_children", "named_parameters", "named_modules"):
        assert [n for n, _ in getattr(ours, walk)()] == [n for n, _ in getattr(theirs, walk)()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(list(ours.parameters())) == repr(list(theirs.parameters()))
    assert type(ours.named_children()).__name__ == type(theirs.named_children()).__name__
    if name != "bare":
        x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach(),
                                   rtol=1e-6)


def test_a_module_overriding_call_is_called_as_in_pytorch(torch, lesson):
    """PyTorch registers nothing held in a plain list; this Module finds it all the same
    (the lesson updates those layers by hand, which works on both)."""
    ours, theirs = lesson[0]["calls its list"], lesson[1]["calls its list"]
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach(),
                               rtol=1e-6)
    assert list(theirs.parameters()) == []
    assert [n for n, _ in ours.named_parameters()] == ["layers.0.weight", "layers.0.bias",
                                                       "layers.2.weight", "layers.2.bias"]


class _Tied(Module):
    """A model whose output layer shares the embedding's weight (weight tying, as GPT-2)."""

    def __init__(self) -> None:
        self.wte = nn.Embedding(5, 3)
        self.lm_head = Linear(3, 5, bias=False)
        self.lm_head.weight = self.wte.weight


def test_a_tied_weight_trains_once_but_is_saved_under_both_names(tmp_path):
    model = _Tied()
    assert [name for name, _ in model.named_parameters()] == ["wte.weight"]  # one parameter
    state = model.state_dict()
    assert list(state) == ["wte.weight", "lm_head.weight"]  # PyTorch's names
    assert np.shares_memory(state["wte.weight"].numpy(), state["lm_head.weight"].numpy())
    model.save(tmp_path / "tied.safetensors")
    again = _Tied()
    again.load(tmp_path / "tied.safetensors")
    np.testing.assert_array_equal(again.lm_head.weight.numpy(), model.wte.weight.numpy())
    assert again.lm_head.weight is again.wte.weight


def test_a_module_or_weight_under_two_attributes_is_in_the_state_under_both(library):
    """As PyTorch's state_dict, which names everything a module registered; the parameters
    themselves, each once."""
    shared = library.nn.Module()
    shared.a = shared.b = library.nn.Linear(1, 1)
    shared.w = shared.v = library.nn.Parameter(library.ones(1))
    assert list(shared.state_dict()) == ["w", "v", "a.weight", "a.bias", "b.weight", "b.bias"]
    assert [n for n, _ in shared.named_parameters()] == ["w", "a.weight", "a.bias"]
    assert [n for n, _ in shared.named_modules(remove_duplicate=False)] == ["", "a", "b"]
    assert [n for n, _ in shared.named_modules()] == ["", "a"]
    shared.load_state_dict(shared.state_dict())  # strict: every name is expected


def test_a_pytorch_state_dict_of_a_shared_module_loads_strictly(torch):
    theirs = torch.nn.Module()
    theirs.a = theirs.b = torch.nn.Linear(2, 1, dtype=torch.float32)
    ours = nn.Module()
    ours.a = ours.b = nn.Linear(2, 1)
    ours.load_state_dict(theirs.state_dict())
    assert ours.a is ours.b
    np.testing.assert_array_equal(ours.b.weight.detach().numpy(),
                                  theirs.a.weight.detach().numpy())
