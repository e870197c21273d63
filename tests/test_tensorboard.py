"""engine/utils/tensorboard/: SummaryWriter writes the events files PyTorch's writes.

`log_calls` makes one fixed row of SummaryWriter calls with every wall time fixed (the
clock patched for the first record of each file, which PyTorch's writer stamps with
time.time()). The bytes PyTorch 2.13's writer wrote for it, file by file, are recorded in
tests/fixtures/tensorboard/torch_events.json, and ours must be the same bytes, so the
check needs neither PyTorch nor TensorBoard. Where both are installed, a live PyTorch run
is compared too (SCRATCHGRAD_TENSORBOARD_TORCH=record writes the recording anew), and
TensorBoard's own reader reads our files back.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable
from unittest import mock

import numpy as np
import pytest

import engine
from engine.atomic import write_bytes
from engine.utils.tensorboard import SummaryWriter
from engine.utils.tensorboard.records import crc32c, masked_crc32c, record, varint
from tensorboard_events import fields, records, scalars

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "tests" / "fixtures" / "tensorboard" / "torch_events.json"
T = 1_700_000_000.25  # the wall time of every record
VALUES = np.linspace(-2.0, 3.0, 41, dtype=np.float32)  # -2, -1.875, ..., 0, ..., 3


def log_calls(writer_class: type, tensor: Callable, log_dir: str) -> None:
    """The recorded row of calls: every add_*, its options and kinds of values."""
    with writer_class(log_dir) as w:
        w.add_scalar("Loss/train", 2.5, 0, walltime=T + 1)
        w.add_scalar("Loss/train", np.float32(1.1), 10, walltime=T + 2)
        w.add_scalar("Loss/test", tensor(0.75), 10, walltime=T + 2.5)
        w.add_scalar("lr", 0.0, walltime=T + 3)  # no step; a zero is still written
        w.add_scalar("overflow", 1e40, -3, walltime=T + 4)  # inf as float32; a negative step
        w.add_scalar("new", 3.3, 1, walltime=T + 5, new_style=True)
        w.add_scalar("new64", 3.3, 1, walltime=T + 5, new_style=True, double_precision=True)
        w.add_scalars("run/losses", {"train": 1.5, "test": 2.0}, 7, walltime=T + 6)
        w.add_scalars("run/losses", {"train": 1.25}, 8, walltime=T + 7)
        w.add_text("notes", "héllo *markdown*", 3, walltime=T + 8)
        w.add_histogram("weights", VALUES, 4, walltime=T + 9)
        w.add_histogram("weights_auto", tensor(VALUES), 4, bins="auto", walltime=T + 10)
        w.add_histogram("weights_few", VALUES, 5, walltime=T + 11, max_bins=7)
        w.add_histogram("tens", VALUES * 10, 5, bins=10, walltime=T + 12, max_bins=4)
        w.add_histogram("wide", np.array([-1e15, -3e-11, 0, 2e-9, 7e18]), 6, walltime=T + 12.5)
        # one hparam a run: PyTorch's protobuf writes a map's entries in a random order
        w.add_hparams({"lr": 0.1}, {"hparam/loss": 0.5}, run_name="lr", global_step=2)
        w.add_hparams({"opt": "adam"}, {"hparam/loss": 0.25}, run_name="opt",
                      hparam_domain_discrete={"opt": ["adam", "sgd"]})
        w.add_hparams({"bn": True, "skip": None}, {"m/a": 1.0, "m/b": 2.0}, run_name="bn")
        w.add_hparams({"t": tensor([0.5, 2.0])}, {}, run_name="t")
        w.flush()
    with writer_class(log_dir + "/purged", purge_step=5, max_queue=2, flush_secs=1,
                      filename_suffix=".x") as w:
        w.add_scalar("x", 1.0, 5, walltime=T + 13)


def written(writer_class: type, tensor: Callable, log_dir: Path) -> dict[str, str]:
    """What log_calls writes: each folder's one events file, as hex, by folder; the file
    names checked to be PyTorch's pattern."""
    with mock.patch("time.time", return_value=T):
        log_calls(writer_class, tensor, str(log_dir))
    out = {}
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        name = re.escape(f"events.out.tfevents.{int(T):010d}.{socket.gethostname()}."
                         f"{os.getpid()}.") + r"\d+" + (r"\.x" if path.parent.name ==
                                                         "purged" else "")
        assert re.fullmatch(name, path.name), path.name
        folder = path.parent.relative_to(log_dir).as_posix()
        assert folder not in out, f"two events files in {folder}"
        out[folder] = path.read_bytes().hex()
    return out


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict[str, str]:
    return written(SummaryWriter, engine.tensor, tmp_path_factory.mktemp("ours") / "run")


def test_the_files_are_the_bytes_pytorchs_writer_wrote(ours):
    recorded = json.loads(RECORDING.read_text())["files"]
    assert sorted(ours) == sorted(recorded) == sorted(
        [".", "bn", "lr", "opt", "purged", "run_losses_test", "run_losses_train", "t"])
    for folder in recorded:
        assert ours[folder] == recorded[folder], folder


def test_the_files_match_a_live_pytorch_run(ours, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    theirs = written(TorchWriter, torch.tensor, tmp_path / "run")
    if os.environ.get("SCRATCHGRAD_TENSORBOARD_TORCH") == "record":
        import tensorboard
        write_bytes(RECORDING, (json.dumps(
            {"torch": torch.__version__, "tensorboard": tensorboard.__version__,
             "wall_time": T, "files": theirs}, indent=1) + "\n").encode())
    assert ours == theirs


# --- reading them back ---

def events_file(folder: Path) -> Path:
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def test_our_reader_finds_the_scalars(tmp_path):
    with mock.patch("time.time", return_value=T):
        log_calls(SummaryWriter, engine.tensor, str(tmp_path))
    found = scalars(events_file(tmp_path))
    assert found["Loss/train"] == [(0, 2.5), (10, pytest.approx(1.1, rel=1e-7))]
    assert found["lr"] == [(0, 0.0)] and found["overflow"][0][1] == float("inf")
    assert found["overflow"][0][0] == 2**64 - 3  # -3 as int64 two's complement
    assert scalars(events_file(tmp_path / "run_losses_train")) == {
        "run/losses": [(7, 1.5), (8, 1.25)]}
    first = fields(records(events_file(tmp_path))[0])
    assert first[3] == [b"brain.Event:2"] and first[1] == [T]


def test_tensorboard_reads_our_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    with mock.patch("time.time", return_value=T):
        log_calls(SummaryWriter, engine.tensor, str(tmp_path))
    main = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0,
                                                          "tensors": 0}).Reload()
    train = main.Scalars("Loss/train")
    assert [(e.step, e.value, e.wall_time) for e in train] == [
        (0, 2.5, T + 1), (10, pytest.approx(1.1, rel=1e-7), T + 2)]
    assert main.Scalars("Loss/test")[0].value == 0.75
    (histo,) = main.Histograms("weights")
    assert histo.step == 4 and histo.histogram_value.num == 41
    assert histo.histogram_value.min == -2.0 and histo.histogram_value.max == 3.0
    assert sum(histo.histogram_value.bucket) == 41
    assert histo.histogram_value.sum == pytest.approx(float(VALUES.astype(float).sum()))
    (note,) = main.Tensors("notes/text_summary")
    assert note.tensor_proto.string_val == ["héllo *markdown*".encode()]
    assert main.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"
    (new,) = main.Tensors("new64")  # the new style's scalars are tensors to TensorBoard
    assert new.tensor_proto.double_val == [3.3]
    run = EventAccumulator(str(tmp_path / "run_losses_test")).Reload()
    assert [(e.step, e.value) for e in run.Scalars("run/losses")] == [(7, 2.0)]


def test_tensorboard_reads_hparams_as_pytorchs(tmp_path):
    """Several hparams in one run, whose map PyTorch's protobuf writes in an order of its
    own: the same messages once read back."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import plugin_data_pb2
    from torch.utils.tensorboard.summary import hparams as torch_hparams

    from engine.utils.tensorboard.summary import hparams
    hp = {"lr": 0.1, "bsize": 4, "opt": "adam", "bn": False, "none": None}
    domains = {"opt": ["adam", "sgd"], "bsize": [4, 8]}
    for ours, theirs in zip(hparams(hp, {"loss": 1.0, "acc": 0.5}, domains),
                            torch_hparams(hp, {"loss": 1.0, "acc": 0.5}, domains)):
        value = fields(fields(ours)[1][0])
        assert value[1] == [theirs.value[0].tag.encode()]
        content = fields(fields(value[9][0])[1][0])
        assert content[1] == [b"hparams"]
        assert plugin_data_pb2.HParamsPluginData.FromString(content[2][0]) == \
            plugin_data_pb2.HParamsPluginData.FromString(
                theirs.value[0].metadata.plugin_data.content)
    assert torch  # (for the skip)


def test_a_record_cut_short_by_a_crash_leaves_the_others_readable(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)
    path = events_file(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # the last record's end lost
    assert scalars(path) == {"loss": [(0, 1.0), (1, 0.5)]}
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return
    assert [e.step for e in EventAccumulator(str(tmp_path)).Reload().Scalars("loss")] == [0, 1]


# --- the writer's behaviour ---

def test_records_wait_for_max_queue_or_flush_and_each_batch_is_whole_records(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3, flush_secs=3600)
    path = events_file(tmp_path)
    assert len(records(path)) == 1  # the file_version record is written at once
    w.add_scalar("a", 1.0, 0)
    w.add_scalar("a", 2.0, 1)
    assert len(records(path)) == 1
    w.add_scalar("a", 3.0, 2)  # the third fills the queue
    assert len(records(path)) == 4
    w.add_scalar("a", 4.0, 3)
    w.flush()
    assert scalars(path)["a"] == [(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)]
    w.close()
    w.close()  # a second close does nothing, as PyTorch's
    w.add_scalar("a", 5.0, 4)  # after close, a new file, as PyTorch's
    w.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


def test_flush_secs_writes_at_the_next_record_after_that_long(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=0.0)
    w.add_scalar("a", 1.0, 0)
    assert scalars(events_file(tmp_path)) == {"a": [(0, 1.0)]}
    w.close()


def test_default_log_dir_and_comment_as_pytorchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    pattern = r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(
        socket.gethostname() + "_lr0.1")
    assert re.fullmatch(pattern, Path(w.log_dir).as_posix()) and w.get_logdir() == w.log_dir
    w.close()
    assert len(list((tmp_path / w.log_dir).glob("events.out.tfevents.*"))) == 1


def test_pending_records_are_written_at_exit_and_not_by_a_forked_child(tmp_path):
    script = ("import os, sys\n"
              "from engine.utils.tensorboard import SummaryWriter\n"
              f"w = SummaryWriter({str(tmp_path)!r})\n"
              "w.add_scalar('a', 1.0, 0)\n"
              "pid = os.fork()\n"
              "if pid == 0:\n"
              "    sys.exit(0)\n"  # a normal exit: atexit runs in the child too
              "os.waitpid(pid, 0)\n"
              "w.add_scalar('a', 2.0, 1)\n")  # no close: written at exit
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert scalars(events_file(tmp_path)) == {"a": [(0, 1.0), (1, 2.0)]}


@pytest.mark.parametrize("call, error, message", [
    (lambda w: w.add_scalar(3, 1.0), TypeError, "tag must be a str, got int"),
    (lambda w: w.add_scalar("a", [1.0]), TypeError,
     r"add_scalar\('a'\): got list, .* \(log a loss as loss.item\(\)\)"),
    (lambda w: w.add_scalar("a", np.ones(2)), AssertionError, "should hold one element, got 2"),
    (lambda w: w.add_scalar("a", "high"), ValueError, "should be a number, got 'high'"),
    (lambda w: w.add_text("a", 3), TypeError, "the text must be a str, got int"),
    (lambda w: w.add_histogram("a", np.array([])), ValueError, "the input has no element"),
    (lambda w: w.add_histogram("a", np.array([1e25])), ValueError,
     r"no value falls in the bins, from -9.9\d*e\+19 to 9.9\d*e\+19; give bins"),
    (lambda w: w.add_hparams([], {}), TypeError, "should be dictionary"),
    (lambda w: w.add_hparams({"a": [1]}, {}), ValueError, "value should be one of int"),
    (lambda w: w.add_hparams({"a": 1}, {}, {"a": ["x"]}), TypeError,
     r"hparam_domain_discrete\[a\] should be a list of same type"),
])
def test_bad_input_is_named(tmp_path, call, error, message):
    with SummaryWriter(tmp_path) as w, pytest.raises(error, match=message):
        call(w)


def test_a_file_as_log_dir_is_named(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(FileExistsError, match="cannot use .*taken as log_dir: it is a file"):
        SummaryWriter(tmp_path / "taken")


def test_crc32c_and_varints_against_published_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720's test vector: 32 zero bytes
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert varint(0) == b"\x00" and varint(300) == b"\xac\x02"  # protobuf's own example
    assert varint(-1) == b"\xff" * 9 + b"\x01"
    # an empty record is 8 zero bytes of length with their checksum, then the data's
    assert record(b"") == bytes(8) + masked_crc32c(bytes(8)).to_bytes(4, "little") + \
        masked_crc32c(b"").to_bytes(4, "little")


def test_import_engine_as_torch_finds_utils_tensorboard():
    code = ("import engine as torch\n"
            "from engine.utils.tensorboard.writer import SummaryWriter\n"
            "assert torch.utils.tensorboard.SummaryWriter is SummaryWriter\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
