"""nn/utils/convert_parameters.py: a model's parameters as one vector and back, as
torch.nn.utils' functions (values, order, gradients, sharing, errors)."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn


def _model():
    engine.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_the_vector_holds_every_parameter_in_order_and_backpropagates_to_them():
    model = _model()
    vec = nn.utils.parameters_to_vector(model.parameters())
    want = np.concatenate([p.detach().numpy().reshape(-1) for p in model.parameters()])
    assert vec.shape == (3 * 4 + 4 + 4 * 2 + 2,) and (vec.detach().numpy() == want).all()
    (vec * engine.arange(vec.numel(), dtype=engine.float32)).sum().backward()
    grads = np.concatenate([p.grad.numpy().reshape(-1) for p in model.parameters()])
    assert (grads == np.arange(vec.numel())).all()  # each entry's gradient is its position


def test_a_vector_goes_back_into_the_parameters_shared_and_unrecorded():
    model = _model()
    vec = engine.arange(26, dtype=engine.float32)
    nn.utils.vector_to_parameters(vec, model.parameters())
    first = model[0].weight
    assert first.shape == (4, 3) and first.detach().numpy().reshape(-1).tolist() == list(range(12))
    assert model[2].bias.tolist() == [24.0, 25.0]
    vec[0] = 100.0  # the parameters view vec's entries, as PyTorch's do
    assert first[0, 0].item() == 100.0 and first.requires_grad and first.grad_fn is None


def test_the_round_trip_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _model(), torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                                 torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    tvec = torch.nn.utils.parameters_to_vector(theirs.parameters())
    assert (vec.detach().numpy() == tvec.detach().numpy()).all()
    new = np.linspace(-1, 1, vec.numel()).astype(np.float32)
    nn.utils.vector_to_parameters(engine.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert (np.asarray(a) == b.numpy()).all(), name


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.utils.vector_to_parameters([1.0], _model().parameters()), TypeError,
     "expected a Tensor, but got: list"),
    (lambda: nn.utils.vector_to_parameters(engine.zeros(5), _model().parameters()), ValueError,
     r"hold 26 entries.*got shape \(5,\)"),
    (lambda: nn.utils.parameters_to_vector([engine.zeros(2), [1.0]]), TypeError,
     "parameter 1 is a list"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
