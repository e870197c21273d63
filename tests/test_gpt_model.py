"""Checks demos/gpt_model.py: tokens and padded batches, the Tensor GPT's padding and causal
mask, the scalar GPT on another Value class, and the Tensor GPT against PyTorch's twin."""
from __future__ import annotations

import numpy as np
import pytest
from gpt_twins import LocalValue, torch_loss, torch_parameters

from demos import gpt_model

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe", "al", "bo", "x"]


# --- tokens and batches


def test_tokenizer_round_trip_and_unknown_characters() -> None:
    tokenizer = gpt_model.Tokenizer(NAMES)
    assert tokenizer.vocab_size == len(set("".join(NAMES))) + 1
    ids = tokenizer.encode("emma")
    assert ids[0] == ids[-1] == tokenizer.bos and tokenizer.decode(ids[1:-1]) == "emma"
    with pytest.raises(ValueError, match="'Q'"):
        tokenizer.encode("Quinn")


def test_batches_pad_mask_and_cut_at_block_size() -> None:
    tokenizer = gpt_model.Tokenizer(NAMES)
    tokens, counts = gpt_model.encode_names(NAMES, tokenizer, block_size=6)
    assert counts.tolist() == [min(6, len(n) + 1) for n in NAMES]
    batch = gpt_model.make_batch(tokens, counts, np.array([2, 9]))  # "ava", "x"
    assert batch.inputs.shape == batch.targets.shape == batch.mask.shape == (2, 4)
    assert batch.mask.tolist() == [[True] * 4, [True, True, False, False]]
    assert batch.documents() == [tokenizer.encode("ava"), tokenizer.encode("x")]
    cut = gpt_model.make_batch(tokens, counts, np.array([3]))  # "isabella", 10 tokens, cut to 7
    assert cut.documents() == [tokenizer.encode("isabella")[:7]]


# --- the models


@pytest.fixture(scope="module")
def small() -> tuple[gpt_model.Tokenizer, gpt_model.Config, np.ndarray, np.ndarray]:
    tokenizer = gpt_model.Tokenizer(NAMES)
    config = gpt_model.Config(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    return (tokenizer, config, *gpt_model.encode_names(NAMES, tokenizer, config.block_size))


def test_padding_takes_no_part_in_the_loss(small) -> None:
    """A batch's loss is the position-weighted mean of its names' own losses."""
    _, config, tokens, counts = small
    model = gpt_model.GPT(config, seed=1, dtype=np.float64)
    rows = np.array([3, 9, 1, 7])
    alone = [model.mean_loss(gpt_model.make_batch(tokens, counts, rows[i:i + 1])) for i in range(4)]
    together = model.mean_loss(gpt_model.make_batch(tokens, counts, rows))
    assert together == pytest.approx(np.average(alone, weights=counts[rows]), rel=1e-12)


def test_no_position_sees_a_later_one(small) -> None:
    _, config, tokens, counts = small
    model = gpt_model.GPT(config, seed=2, dtype=np.float64)
    inputs = gpt_model.make_batch(tokens, counts, np.array([3])).inputs
    changed = inputs.copy()
    changed[0, 4:] = (changed[0, 4:] + 1) % config.vocab_size
    before, after = model(inputs).numpy(), model(changed).numpy()
    np.testing.assert_array_equal(before[0, :4], after[0, :4])
    assert not np.allclose(before[0, 4:], after[0, 4:])


def test_scalar_model_runs_on_another_value_class(small) -> None:
    """ScalarGPT on microgpt's Value (tests/gpt_twins.py) gives the Tensor model's loss."""
    _, config, tokens, counts = small
    model = gpt_model.GPT(config, seed=3, dtype=np.float64)
    batch = gpt_model.make_batch(tokens, counts, np.array([0, 8]))
    scalar = gpt_model.ScalarGPT(LocalValue, model.state_dict(), config)
    loss = scalar.loss(batch.documents())
    loss.backward()
    tensor_loss = model.loss(batch)
    tensor_loss.backward()
    assert loss.data == pytest.approx(tensor_loss.item(), abs=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(scalar.gradients()[name], np.asarray(p.grad), rtol=0,
                                   atol=1e-12, err_msg=name)


def test_the_weight_count_is_the_state_dicts(small) -> None:
    _, config, _, _ = small
    state = gpt_model.GPT(config).state_dict()
    assert config.n_weights == sum(np.asarray(w).size for w in state.values())
    assert gpt_model.Config(27).n_weights == 4192  # microgpt's model on makemore's 27 tokens


def test_loss_and_gradients_equal_pytorchs_twin(small, torch) -> None:
    _, config, tokens, counts = small
    model = gpt_model.GPT(config, seed=4, dtype=np.float64)
    batch = gpt_model.make_batch(tokens, counts, np.array([1, 3, 9]))
    params = torch_parameters(model.state_dict())
    want = torch_loss(params, batch, config)
    want.backward()
    loss = model.loss(batch)
    loss.backward()
    assert loss.item() == pytest.approx(want.item(), abs=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(np.asarray(p.grad), params[name].grad.numpy(), rtol=0,
                                   atol=1e-12, err_msg=name)
