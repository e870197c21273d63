"""Checks demos/gpt.py (the names GPT on both engines) and demos/data.py's names loading.

The engines are checked against each other and PyTorch by the demo's own --check, run
here in a few small steps, and shown able to fail; the Tensor model's padding and causal
mask are checked on their own; the command line runs as a user runs it, offline.
"""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from test_demos import run_demo

from demos import data, gpt
from demos.data import DataError, load_names, read_names

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe", "al", "bo", "x"]


@pytest.fixture
def shipped_bytes() -> bytes:
    return data.SHIPPED_NAMES.read_bytes()


# --- load_names


def test_shipped_copy_is_makemores_names_txt(shipped_bytes: bytes) -> None:
    assert hashlib.sha256(shipped_bytes).hexdigest() == data.NAMES_SHA256
    names = read_names(data.SHIPPED_NAMES)
    assert len(names) == 32_033  # `wc -l` says 32,032: the last line has no newline
    assert names[:3] == ["emma", "olivia", "ava"] and names[-1] == "zzyzx"


def test_path_given_is_read_as_one_name_a_line(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("  anna \n\nbob\r\nchloé\n")
    assert load_names(path) == (["anna", "bob", "chloé"], str(path))


@pytest.mark.parametrize("content, message", [
    (None, "cannot read names file"),
    (b"", "no names in this file"),
    (b" \n\n\t\n", "no names in this file"),
    (b"\xff\xfe\x00binary", "cannot read names file"),
])
def test_bad_names_file_is_a_data_error(tmp_path: Path, content: bytes | None,
                                        message: str) -> None:
    path = tmp_path / "names.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as e:
        load_names(path)
    assert str(path) in str(e.value)


def test_verified_cache_comes_first(tmp_path: Path, shipped_bytes: bytes) -> None:
    (tmp_path / "names.txt").write_bytes(shipped_bytes)
    names, source = load_names(cache_dir=tmp_path, download=False)
    assert source == str(tmp_path / "names.txt") and len(names) == 32_033


def test_damaged_cache_falls_back_to_the_shipped_copy(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("not\nthe\nlist\n")
    names, source = load_names(cache_dir=tmp_path, download=False)
    assert source == str(data.SHIPPED_NAMES) and len(names) == 32_033


def fake_internet(monkeypatch, body: bytes) -> list[str]:
    """Every download gets `body` instead of touching the network; returns the URLs asked."""
    asked = []

    def urlopen(url: str, timeout: float) -> io.BytesIO:
        asked.append(url)
        response = io.BytesIO(body)
        response.headers = {"Content-Length": str(len(body))}
        return response
    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(data, "SHIPPED_NAMES", Path("/nonexistent/names.txt"))  # not shipped
    return asked


def test_download_is_verified_and_lands_in_the_cache(tmp_path: Path, monkeypatch,
                                                     shipped_bytes: bytes) -> None:
    asked = fake_internet(monkeypatch, shipped_bytes)
    names, source = load_names(cache_dir=tmp_path / "cache")
    assert asked == [("https://raw.githubusercontent.com/karpathy/makemore/"
                      "988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt")]
    assert source.endswith("(downloaded)") and len(names) == 32_033
    assert (tmp_path / "cache" / "names.txt").read_bytes() == shipped_bytes


def test_wrong_download_leaves_nothing(tmp_path: Path, monkeypatch, shipped_bytes: bytes) -> None:
    fake_internet(monkeypatch, shipped_bytes.replace(b"emma", b"emmy"))
    with pytest.raises(DataError, match="does not match the expected"):
        load_names(cache_dir=tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir() if "names" in p.name]


def test_nothing_found_offline_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    asked = fake_internet(monkeypatch, b"")
    with pytest.raises(DataError, match="pass --data PATH or allow the download"):
        load_names(cache_dir=tmp_path, download=False)
    assert asked == []


# --- tokens and batches


def test_tokenizer_round_trip_and_unknown_characters() -> None:
    tokenizer = gpt.Tokenizer(NAMES)
    assert tokenizer.vocab_size == len(set("".join(NAMES))) + 1
    ids = tokenizer.encode("emma")
    assert ids[0] == ids[-1] == tokenizer.bos and tokenizer.decode(ids[1:-1]) == "emma"
    with pytest.raises(ValueError, match="'Q'"):
        tokenizer.encode("Quinn")


def test_batches_pad_mask_and_cut_at_block_size() -> None:
    tokenizer = gpt.Tokenizer(NAMES)
    tokens, counts = gpt.encode_names(NAMES, tokenizer, block_size=6)
    assert counts.tolist() == [min(6, len(n) + 1) for n in NAMES]
    batch = gpt.make_batch(tokens, counts, np.array([2, 9]))  # "ava", "x"
    assert batch.inputs.shape == batch.targets.shape == batch.mask.shape == (2, 4)
    assert batch.mask.tolist() == [[True] * 4, [True, True, False, False]]
    assert batch.documents() == [tokenizer.encode("ava"), tokenizer.encode("x")]
    cut = gpt.make_batch(tokens, counts, np.array([3]))  # "isabella", 10 tokens, cut to 7
    assert cut.documents() == [tokenizer.encode("isabella")[:7]]


# --- the models


@pytest.fixture(scope="module")
def small() -> tuple[gpt.Tokenizer, gpt.Config, np.ndarray, np.ndarray]:
    tokenizer = gpt.Tokenizer(NAMES)
    config = gpt.Config(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8)
    return (tokenizer, config, *gpt.encode_names(NAMES, tokenizer, config.block_size))


def test_padding_takes_no_part_in_the_loss(small) -> None:
    """A batch's loss is the position-weighted mean of its names' own losses."""
    _, config, tokens, counts = small
    model = gpt.GPT(config, seed=1, dtype=np.float64)
    rows = np.array([3, 9, 1, 7])
    alone = [model.mean_loss(gpt.make_batch(tokens, counts, rows[i:i + 1])) for i in range(4)]
    together = model.mean_loss(gpt.make_batch(tokens, counts, rows))
    assert together == pytest.approx(np.average(alone, weights=counts[rows]), rel=1e-12)


def test_no_position_sees_a_later_one(small) -> None:
    _, config, tokens, counts = small
    model = gpt.GPT(config, seed=2, dtype=np.float64)
    inputs = gpt.make_batch(tokens, counts, np.array([3])).inputs
    changed = inputs.copy()
    changed[0, 4:] = (changed[0, 4:] + 1) % config.vocab_size
    before, after = model(inputs).data, model(changed).data
    np.testing.assert_array_equal(before[0, :4], after[0, :4])
    assert not np.allclose(before[0, 4:], after[0, 4:])


def test_scalar_model_runs_on_another_value_class(small) -> None:
    """ScalarGPT on the benchmark's microgpt-style Value gives the Tensor model's loss."""
    from bench.gpt import LocalValue

    _, config, tokens, counts = small
    model = gpt.GPT(config, seed=3, dtype=np.float64)
    batch = gpt.make_batch(tokens, counts, np.array([0, 8]))
    scalar = gpt.ScalarGPT(LocalValue, model.state_dict(), config)
    loss = scalar.loss(batch.documents())
    loss.backward()
    tensor_loss = model.loss(batch)
    tensor_loss.backward()
    assert loss.data == pytest.approx(tensor_loss.item(), abs=1e-12)
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert gpt.largest_gap(grads, scalar.gradients()) < 1e-12


def test_check_agrees_across_engines_and_pytorch(capsys, torch) -> None:
    assert gpt.main(["--check", "--steps", "2", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    gaps = re.findall(r"(value|torch) vs tensor: loss (\S+), gradients (\S+) \(pass", out)
    assert [g[0] for g in gaps] == ["value", "torch"] * 2
    for engine, loss_gap, grad_gap in gaps:
        assert max(float(loss_gap), float(grad_gap)) <= gpt.CHECK_TOLERANCE[engine]
    assert "all losses and gradients agree" in out


def test_check_fails_on_a_wrong_gradient(capsys, monkeypatch) -> None:
    def skewed_rmsnorm(x: list) -> list:  # the scalar side's eps 1000x too large
        scale = (gpt.total(xi * xi for xi in x) * (1.0 / len(x)) + 1e-2) ** -0.5
        return [xi * scale for xi in x]
    monkeypatch.setattr(gpt, "scalar_rmsnorm", skewed_rmsnorm)
    assert gpt.main(["--check", "--steps", "1", "--batch-size", "2"]) == 1
    out = capsys.readouterr().out
    assert "value vs tensor" in out and "FAIL" in out and "MISMATCH" in out


def test_largest_gap_names_mismatched_weights() -> None:
    a = {"w": np.zeros(3), "v": np.ones(2)}
    assert gpt.largest_gap(a, {"w": np.array([0.0, -0.5, 0.25]), "v": np.ones(2)}) == 0.5
    with pytest.raises(ValueError, match="'u'"):
        gpt.largest_gap(a, {"w": np.zeros(3), "u": np.ones(2)})


# --- the command line, as a user runs it


def written(stdout: str, cwd: Path) -> list[Path]:
    """Every file a `wrote PATH` line names; each must exist."""
    paths = [cwd / line.removeprefix("wrote ") for line in stdout.splitlines()
             if line.startswith("wrote ")]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"'wrote' lines name missing files: {missing}"
    return paths


def test_help(tmp_path: Path) -> None:
    out = run_demo("gpt", "--help", cwd=tmp_path).stdout
    assert out.startswith("usage: python -m demos.gpt")
    for flag in ("--engine", "--check", "--data", "--temperature", "--out"):
        assert flag in out


def test_tensor_engine_trains_samples_and_writes(tmp_path: Path) -> None:
    done = run_demo("gpt", "--steps", 4, "--eval-every", 2, "--samples", 3, "--no-download",
                    "--out", "out", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert re.search(r"step +4/4  loss \d\.\d{4}  held-out loss \d\.\d{4}", done.stdout)
    assert len(re.findall(r"^sample +\d+: [a-z]*$", done.stdout, re.MULTILINE)) == 3
    paths = {p.name for p in written(done.stdout, tmp_path)}
    assert paths == {"gpt_tensor.safetensors", "gpt_tensor_loss.png",
                     "gpt_attention_head.svg"}
    assert (tmp_path / "out" / "gpt_tensor_loss.png").read_bytes()[:4] == b"\x89PNG"
    tokenizer = gpt.Tokenizer(read_names(data.SHIPPED_NAMES))
    model = gpt.GPT(gpt.Config(tokenizer.vocab_size))
    model.load(tmp_path / "out" / "gpt_tensor.safetensors")  # it fits the default model


def test_value_engine_trains_one_name_a_step(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES * 2))
    done = run_demo("gpt", "--engine", "value", "--data", names, "--steps", 2, "--samples", 2,
                    "--n-embd", 8, "--n-head", 2, "--out", "out", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert "scalar engine.Value, one name per step, 2 steps" in done.stdout
    assert re.search(r"held-out loss on the last 2 names: \d\.\d{4}", done.stdout)
    assert {p.name for p in written(done.stdout, tmp_path)} == {"gpt_value.safetensors",
                                                                "gpt_value_loss.png"}


def test_resume_takes_sizes_and_characters_from_the_checkpoint(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES * 2))
    run_demo("gpt", "--data", names, "--steps", 2, "--samples", 0, "--n-embd", 8,
             "--n-head", 2, "--block-size", 12, "--out", "first", cwd=tmp_path)
    first = tmp_path / "first" / "gpt_tensor.safetensors"
    config, tokenizer = gpt.read_checkpoint_metadata(first)
    assert config == gpt.Config(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=12)
    assert tokenizer.chars == sorted(set("".join(NAMES)))

    fewer = tmp_path / "fewer.txt"  # names with fewer characters keep the checkpoint's tokens
    fewer.write_text("\n".join(["emma", "ava", "mia"] * 4))
    done = run_demo("gpt", "--data", fewer, "--resume", first, "--steps", 2, "--samples", 0,
                    "--out", "second", cwd=tmp_path)
    assert f"resuming from {first}" in done.stdout
    assert (f"8-dim embeddings, 2 heads, block 12, vocabulary {tokenizer.vocab_size}"
            in done.stdout)
    before, after = gpt.GPT(config), gpt.GPT(config)
    before.load(first)
    after.load(tmp_path / "second" / "gpt_tensor.safetensors")  # trained on from `first`
    assert not np.array_equal(before.state_dict()["wte"], after.state_dict()["wte"])
    config_after, tokenizer_after = gpt.read_checkpoint_metadata(
        tmp_path / "second" / "gpt_tensor.safetensors")
    assert config_after == config and tokenizer_after.chars == tokenizer.chars


@pytest.mark.parametrize("args, message", [
    (["--n-embd", "16"], "--n-embd 16 does not match first/gpt_tensor.safetensors's 8: leave it "
                         "out"),
    (["--data", "other.txt"], "other.txt holds characters that first/gpt_tensor.safetensors has "
                              "no token for: 'nqu'"),
    (["--check"], "--check starts both engines from the same fresh weights"),
])
def test_resume_refuses_what_does_not_fit_in_one_line(tmp_path: Path, args: list[str],
                                                      message: str) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES * 2))
    (tmp_path / "other.txt").write_text("\n".join(["quinn", "emma"] * 5))
    run_demo("gpt", "--data", names, "--steps", 1, "--samples", 0, "--n-embd", 8, "--n-head", 2,
             "--out", "first", cwd=tmp_path)
    done = run_demo("gpt", "--data", names, "--resume", "first/gpt_tensor.safetensors", *args,
                    cwd=tmp_path, check=False)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert message in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--n-embd", "10", "--n-head", "4"], "--n-embd (10) must be a multiple of --n-head (4)"),
    (["--temperature", "0"], "argument --temperature: must be a finite number greater than 0"),
    (["--lr", "nan"], "argument --lr: must be a finite number greater than 0, got nan"),
    (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--samples", "-2"], "argument --samples: must be at least 0, got -2"),
    (["--engine", "value", "--eval-every", "5"], "--eval-every is for the Tensor engine"),
    (["--check", "--steps", "9000", "--batch-size", "4"],
     "--check with --steps 9000 and --batch-size 4 needs 36,000 names to train on; "),
    (["--data", "no-such-file.txt"], "no-such-file.txt: cannot read names file"),
])
def test_bad_arguments_are_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_demo("gpt", *args, cwd=tmp_path, check=False)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert message in done.stderr


def test_a_batch_larger_than_the_names_takes_several_passes() -> None:
    batches = list(gpt.batch_rows(4, 10, 3, np.random.default_rng(0)))
    assert [len(rows) for rows in batches] == [10, 10, 10]
    assert np.all(np.bincount(np.concatenate(batches), minlength=4) >= 7)  # each name in each pass


def test_sampling_at_a_tiny_temperature_takes_the_likeliest_character() -> None:
    tokenizer = gpt.Tokenizer(["ab"])  # a, b, then BOS
    logits = np.array([0.0, 3.0, -1.0], np.float32)  # b is the likeliest, then BOS never comes
    names = gpt.sample_names(lambda: lambda token: logits, tokenizer, 2, 1e-39, 3,
                             np.random.default_rng(0))
    assert names == ["bbb", "bbb"]
