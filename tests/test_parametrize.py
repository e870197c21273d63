"""nn/utils/parametrize.py: register_parametrization and what comes with it (originals,
right_inverse, chaining, removal, caching, state names, errors), by hand-derived values and
against torch.nn.utils.parametrize."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import engine
import nn
from engine.gradcheck import gradcheck
from nn.utils import parametrize as P


class Symmetric(nn.Module):
    """X -> its upper triangle mirrored: a symmetric matrix."""

    def forward(self, X):
        return X.triu() + X.triu(1).mT


class Scale(nn.Module):
    """X -> 2 X, with right_inverse X / 2: assigning the weight stores half of it."""

    def forward(self, X):
        return X * 2.0

    def right_inverse(self, X):
        return X / 2.0


class Split(nn.Module):
    """(A, B) -> A + B; right_inverse X -> (X, 0): two originals."""

    def forward(self, A, B):
        return A + B

    def right_inverse(self, X):
        return X, X.new_zeros(X.shape)


class Calls(nn.Module):
    """The identity, counting its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        return X * 1.0


def _linear(n_in=3, n_out=3):
    engine.manual_seed(0)
    return nn.Linear(n_in, n_out)


def test_the_weight_is_computed_from_the_original_on_each_access():
    m = _linear()
    w = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    original = m.parametrizations.weight.original
    assert original is w  # the parameter itself moves, so an optimizer holding it goes on
    W = m.weight.detach().numpy()
    assert (W == W.T).all() and (np.triu(W) == np.triu(w.detach().numpy())).all()
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert P.type_before_parametrizations(m) is nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias") and not P.is_parametrized(_linear())
    with engine.no_grad():
        original[0, 2] = 5.0
    assert m.weight[2, 0].item() == 5.0  # recomputed at the next access


def test_state_and_parameters_are_named_as_pytorch_names_them():
    m = P.register_parametrization(_linear(), "weight", Symmetric())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    split = P.register_parametrization(_linear(), "weight", Split())
    assert list(split.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]


def test_the_gradient_reaches_the_original_through_the_parametrization():
    m = P.register_parametrization(_linear(), "weight", Symmetric())
    C = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    (m.weight * engine.tensor(C)).sum().backward()
    # W = triu(X) + triu(X, 1)^T, so dL/dX = triu(C) + triu(C^T, 1)
    want = np.triu(C) + np.triu(C.T, 1)
    assert m.parametrizations.weight.original.grad.tolist() == want.tolist()


def test_gradients_by_finite_differences_in_float64():
    m = P.register_parametrization(_linear(), "weight", Split()).double()
    P.register_parametrization(m, "weight", Symmetric())
    a, b = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    x = engine.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    assert gradcheck(lambda a, b: m(x), [a, b])


def test_assigning_the_weight_goes_through_right_inverse():
    m = P.register_parametrization(_linear(), "weight", Scale())
    target = engine.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))
    m.weight = target
    assert m.parametrizations.weight.original.tolist() == (target.numpy() / 2).tolist()
    assert m.weight.tolist() == target.tolist()


def test_a_right_inverse_of_several_tensors_gives_original0_original1():
    m = _linear()
    w = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", Split())
    plist = m.parametrizations.weight
    assert not plist.is_tensor and plist.ntensors == 2
    assert plist.original0.tolist() == w.tolist() and plist.original1.tolist() == [[0.0] * 3] * 3
    assert isinstance(plist.original0, nn.Parameter) and plist.original1.requires_grad
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)


def test_parametrizations_chain_in_the_order_registered():
    m = _linear()
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "weight", Scale())
    X = m.parametrizations.weight.original.detach().numpy()
    assert m.weight.tolist() == (2 * (np.triu(X) + np.triu(X, 1).T)).tolist()
    assert len(m.parametrizations.weight) == 2
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]


def test_remove_leaves_the_parametrized_value_in_the_same_parameter():
    m = _linear()
    P.register_parametrization(m, "weight", Symmetric())
    original = m.parametrizations.weight.original
    want = m.weight.tolist()
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is original and m.weight.tolist() == want
    assert isinstance(m.weight, nn.Parameter) and list(m.state_dict()) == ["bias", "weight"]


def test_remove_without_leaving_parametrized_gives_back_the_original():
    m = _linear()
    before = m.weight.tolist()
    P.register_parametrization(m, "weight", Scale())
    P.register_parametrization(m, "bias", Scale())
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight.tolist() == [[x / 2 for x in row] for row in before]  # right_inverse's
    assert type(m).__name__ == "ParametrizedLinear"  # bias is still parametrized
    P.remove_parametrizations(m, "bias")
    assert type(m) is nn.Linear


def test_a_buffer_can_be_parametrized_and_stays_a_buffer():
    m = nn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", Scale())
    assert "parametrizations.running_var.original" in m.state_dict()
    assert [n for n, _ in m.named_buffers()][-1] == "parametrizations.running_var.original"
    assert m.running_var.tolist() == [1.0, 1.0, 1.0]  # 2 * (1 / 2)


def test_cached_computes_each_tensor_once_inside_the_block():
    m = _linear()
    calls = Calls()
    P.register_parametrization(m, "weight", calls, unsafe=True)
    calls.calls = 0
    m.weight, m.weight
    assert calls.calls == 2
    with P.cached():
        first = m.weight
        with P.cached():
            assert m.weight is first
        assert m.weight is first
    assert calls.calls == 3
    assert m.weight is not first and calls.calls == 4


def test_deepcopy_works_and_pickling_is_refused_as_in_pytorch():
    m = P.register_parametrization(_linear(), "weight", Symmetric())
    twin = copy.deepcopy(m)
    assert type(twin) is type(m) and twin.weight.tolist() == m.weight.tolist()
    with engine.no_grad():
        twin.parametrizations.weight.original[0, 1] = 9.0
    assert m.weight[1, 0].item() != 9.0 and twin.weight[1, 0].item() == 9.0
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_transfer_shares_the_parametrizations_and_the_originals():
    source = P.register_parametrization(_linear(), "weight", Symmetric())
    target = P.transfer_parametrizations_and_params(source, _linear(3, 3))
    assert target.parametrizations.weight.original is source.parametrizations.weight.original
    assert target.parametrizations.weight[0] is source.parametrizations.weight[0]
    assert target.weight.tolist() == source.weight.tolist()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'wieght'"):
        P.register_parametrization(_linear(), "wieght", Symmetric())
    with pytest.raises(ValueError, match=r"may not change the shape.*\n"
                                         r"unparametrized shape: torch.Size\(\[3, 3\]\)\n"
                                         r"parametrized shape: torch.Size\(\[9\]\)"):
        P.register_parametrization(_linear(), "weight", Flatten())
    m = P.register_parametrization(_linear(), "weight", Symmetric())
    with pytest.raises(ValueError, match=r"module.weight.shape: torch.Size\(\[3, 3\]\)"):
        P.register_parametrization(m, "weight", Flatten())
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(m, "bias")
    with pytest.raises(RuntimeError, match="Symmetric does not implement right_inverse"):
        m.weight = engine.zeros(3, 3)
    with pytest.raises(AttributeError, match="a parametrization is an nn.Module"):
        P.register_parametrization(_linear(), "weight", lambda X: X)
    flat = P.register_parametrization(_linear(), "weight", Flatten(), unsafe=True)
    assert flat.weight.shape == (9,)  # unsafe: the shape may change


class Flatten(nn.Module):
    def forward(self, X):
        return X.reshape(-1)


def _torch_twins(torch):
    """Symmetric, Scale and Flatten written for torch (named alike, so the reprs agree)."""
    class Symmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    class Scale(torch.nn.Module):
        def forward(self, X):
            return X * 2.0

        def right_inverse(self, X):
            return X / 2.0

    class Flatten(torch.nn.Module):
        def forward(self, X):
            return X.reshape(-1)
    return Symmetric, Scale, Flatten


def test_training_state_names_repr_and_errors_match_pytorch():
    torch = pytest.importorskip("torch")
    TSymmetric, TScale, TFlatten = _torch_twins(torch)
    ours = _linear(4, 4)
    theirs = torch.nn.Linear(4, 4)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for p, tp in ((Symmetric, TSymmetric), (Scale, TScale)):
        P.register_parametrization(ours, "weight", p())
        torch.nn.utils.parametrize.register_parametrization(theirs, "weight", tp())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    opt = nn.optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    for _ in range(4):
        loss, tloss = ours(engine.tensor(x)).tanh().sum(), theirs(torch.tensor(x)).tanh().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert abs(loss.item() - tloss.item()) <= 1e-5 * abs(tloss.item())
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-5, atol=1e-6)
    for name, ours_p, theirs_p in (("weight", Flatten(), TFlatten()),
                                   ("wieght", Scale(), TScale())):
        messages = []
        for lib, module, flat in ((P, _linear(), ours_p),
                                  (torch.nn.utils.parametrize, torch.nn.Linear(3, 3), theirs_p)):
            with pytest.raises(ValueError) as e:
                lib.register_parametrization(module, name, flat)
            messages.append(str(e.value))
        assert messages[0] == messages[1]
