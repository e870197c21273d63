"""SummaryWriter, as torch.utils.tensorboard's: logs scalars, text, histograms and hparams to
TensorBoard events files that TensorBoard reads, byte for byte the files PyTorch's writes
for the same calls (with the same clock, host and process).

Each writer writes one file, `<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>`,
whose first record names its format ("brain.Event:2"); add_scalars and add_hparams write
more, each in a folder of its own under log_dir, as PyTorch's do. An events file is a log:
it is only ever appended to, each batch of records in one write call of an unbuffered file,
so a crash leaves whole records, at worst a last one cut short, which TensorBoard's reader
takes as not yet written. Records wait in memory until max_queue of them have come, a
record comes flush_secs or more after the last write (unlike PyTorch's writer, this one
has no timer thread: a quiet writer writes at its next record), flush() or close() is
called, or the writer is collected or Python exits.
"""
from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref
from datetime import datetime
from typing import Any

from engine.utils.tensorboard import summary
from engine.utils.tensorboard.records import double, integer, length_delimited, record

__all__ = ["SummaryWriter"]

_file_numbers = itertools.count()  # the <n> of the file names, for all writers in the process
_SESSION_START = 1  # SessionLog.START


def event(wall_time: float, step: int | None = None, content: bytes = b"",
          file_version: str = "", session_start: bool = False, writer: str = "") -> bytes:
    """An encoded tensorboard.Event: wall_time (1), step (2), and one of file_version (3),
    summary (5), session_log (7); source_metadata (10) = SourceMetadata {writer (1)}."""
    out = double(1, wall_time)
    if step is not None:
        out += integer(2, int(step))
    if file_version:
        out += length_delimited(3, file_version, always=True)
    if content:  # an encoded Summary
        out += length_delimited(5, content, always=True)
    if session_start:
        out += length_delimited(7, integer(1, _SESSION_START), always=True)
    if writer:
        out += length_delimited(10, length_delimited(1, writer), always=True)
    return out


class _EventFile:
    """One events file, appended to in batches of records."""

    def __init__(self, log_dir: str, max_queue: int, flush_secs: float,
                 filename_suffix: str) -> None:
        try:
            os.makedirs(log_dir, exist_ok=True)
        except FileExistsError:
            raise FileExistsError(f"SummaryWriter: cannot use {log_dir} as log_dir: it is a "
                                  "file; give a folder") from None
        self.log_dir = log_dir
        self.path = os.path.join(log_dir, "events.out.tfevents.%010d.%s.%s.%s" % (
            time.time(), socket.gethostname(), os.getpid(), next(_file_numbers))
        ) + filename_suffix
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self._file = open(self.path, "ab", buffering=0)
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._written_at = time.monotonic()
        # records still waiting when the writer is dropped or Python exits are written then,
        # by this process only: a forked DataLoader worker exits with a copy of them
        weakref.finalize(self, _write_out, self._file, self._pending, os.getpid())
        # the writer's name is TensorBoard's own, so that the files are PyTorch's, byte for byte
        self.add(event(time.time(), file_version="brain.Event:2",
                       writer="tensorboard.summary.writer.event_file_writer"))
        self.flush()

    def add(self, data: bytes) -> None:
        """Queue one encoded Event; write the queue out when it is full or old enough."""
        with self._lock:
            if self._file.closed:
                raise OSError(f"SummaryWriter: the events file {self.path} is closed")
            self._pending.append(record(data))
            if (len(self._pending) >= self.max_queue
                    or time.monotonic() - self._written_at >= self.flush_secs):
                self._write()

    def flush(self) -> None:
        """Write the queued records to the file."""
        with self._lock:
            if not self._file.closed:
                self._write()

    def close(self) -> None:
        """Write the queued records and close the file."""
        with self._lock:
            if not self._file.closed:
                self._write()
                self._file.close()

    def _write(self) -> None:
        _write_out(self._file, self._pending, os.getpid())
        self._written_at = time.monotonic()


def _write_out(file: Any, pending: list[bytes], pid: int) -> None:
    """Append the pending records in one write call (looping only if the system writes less),
    if this is the process that made them."""
    if pending and not file.closed and os.getpid() == pid:
        data = memoryview(b"".join(pending))
        pending.clear()
        while data:
            data = data[file.write(data):]


class SummaryWriter:
    """Writes what a training run logs to events files in log_dir for TensorBoard, as
    torch.utils.tensorboard.SummaryWriter.

    `log_dir` is runs/<month><day>_<hh-mm-ss>_<host><comment> unless given. `purge_step`
    tells TensorBoard to hide the events of an earlier run in this folder from that step
    on (a restart after a crash). `max_queue` and `flush_secs` say how many records, or how
    many seconds' worth, wait in memory before they are written. Every add_* takes
    global_step (the x axis) and walltime (seconds since the epoch; now unless given).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_"
                                   + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._files: dict[str, _EventFile] | None = None
        self._main_file()

    def _main_file(self) -> _EventFile:
        """The file in log_dir; after close(), a new one."""
        if self._files is None:
            file = self._new_file(self.log_dir)
            self._files = {self.log_dir: file}
            if self.purge_step is not None:
                file.add(event(time.time(), self.purge_step, file_version="brain.Event:2"))
                file.add(event(time.time(), self.purge_step, session_start=True))
                self.purge_step = None
        return self._files[self.log_dir]

    def _new_file(self, log_dir: str) -> _EventFile:
        return _EventFile(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def get_logdir(self) -> str:
        """The folder the events files go to."""
        return self.log_dir

    def _add(self, encoded: bytes, global_step: int | None, walltime: float | None,
             file: _EventFile | None = None) -> None:
        """Log one encoded Summary as an Event of this step and time."""
        (file or self._main_file()).add(
            event(time.time() if walltime is None else walltime, global_step, encoded))

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log one number (a float, a numpy number, a one-element tensor) under tag."""
        self._add(summary.scalar(tag, scalar_value, new_style, double_precision),
                  global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Log several numbers on one chart: each under main_tag, in a file of its own in
        the folder <log_dir>/<main_tag with / as _>_<its key>, as PyTorch does."""
        walltime = time.time() if walltime is None else walltime
        self._main_file()
        for tag, scalar_value in tag_scalar_dict.items():
            folder = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            if folder not in self._files:
                self._files[folder] = self._new_file(folder)
            self._add(summary.scalar(main_tag, scalar_value), global_step, walltime,
                      self._files[folder])

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a string, shown by TensorBoard's text tab as Markdown."""
        self._add(summary.text(tag, text_string), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log the distribution of values (an array or tensor of any shape): bins as numpy's
        histogram takes them, or "tensorflow", TensorBoard's exponential buckets."""
        self._add(summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """Log a run's hyperparameters and its metrics for TensorBoard's HPARAMS tab, in the
        folder <log_dir>/<run_name> (the time now, unless given), as PyTorch does."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        encoded = summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_name = run_name or str(time.time())
        with SummaryWriter(log_dir=os.path.join(self._main_file().log_dir, run_name)) as run:
            for message in encoded:
                run._add(message, global_step, None)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    def flush(self) -> None:
        """Write every record logged so far to its file."""
        for file in (self._files or {}).values():
            file.flush()

    def close(self) -> None:
        """Write everything and close the files; a later add_* starts a new file."""
        for file in (self._files or {}).values():
            file.close()
        self._files = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

