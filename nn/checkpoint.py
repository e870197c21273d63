"""Checkpoints: a Module's state to a file and back, in PyTorch's safetensors format.

A checkpoint is a `.safetensors` file, the format PyTorch users share weights in: 8 bytes
giving the length of a JSON header (a little-endian u64), the header, then every tensor's
raw little-endian bytes back to back. The header maps each of the state's dotted names
(`0.weight`, as PyTorch names them) to its dtype, shape and byte range, and keeps string
metadata under `__metadata__`. That is the whole format, so this file reads and writes it
with numpy alone: PyTorch loads what `save` writes with `safetensors.torch.load_file`, and
`load` reads what `safetensors.torch.save_file` writes.

Reading trusts nothing in the file. It opens only a regular file (a FIFO would block, and
/dev/zero never ends), reads a header no longer than the model's checkpoint can need, and
checks every entry against the model (names, dtypes, shapes, byte ranges that tile the
data exactly, the file's length) before it reads one number. A hostile file therefore
costs no more memory than the model; and numbers are all a checkpoint can hold, nothing is
unpickled or run. Writes go through engine.atomic, so a crash leaves the old file as it was.

The metadata records the format version (FORMAT_VERSION) beside what its writer adds, such
as a demo's layer sizes. `.npz` files, scratchgrad's earlier format, carry no version: they
still load into models without an nn.Linear, and are refused with the reason for models
with one, since they hold Linear weights as (in, out), the transpose of PyTorch's layout.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import reprlib
import stat
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator, Mapping, NamedTuple

import numpy as np

from engine.atomic import atomic_write
from engine.value import Value

if TYPE_CHECKING:
    from nn.module import Module

FORMAT_VERSION = "2"  # 1 was the .npz of scratchgrad's first releases, which has no metadata
VERSION_KEY = "scratchgrad_checkpoint"
# safetensors' dtype names and numpy's little-endian dtypes; the others (BF16, the F8s)
# have no numpy dtype
DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
          "U32": "<u4", "I32": "<i4", "F32": "<f4", "C64": "<c8", "U64": "<u8", "I64": "<i8",
          "F64": "<f8"}
CODES = {np.dtype(numpy): code for code, numpy in DTYPES.items()}
# Header room: a fixed allowance (metadata, a PyTorch writer's habits) plus a generous line
# per tensor the model holds, so a header cannot make the reader parse megabytes of JSON.
HEADER_BASE, HEADER_PER_TENSOR = 1 << 20, 1 << 10
MAX_DIMS = 64  # numpy's limit, and it keeps the product of a shape's sizes a small number
ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # an entry, or the end of an empty zip

Spec = tuple[np.dtype, tuple[int, ...]]  # what a state entry holds: dtype and shape


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) left out, as PyTorch returns it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# --- state <-> arrays


def state_dict(module: Module) -> dict[str, np.ndarray]:
    """Dotted name -> a copy of the numbers of every Value and Tensor (a Value's as a 0-d
    array); a tensor held under two names (tied weights) gives both names one copy, so a
    checkpoint stores it once, as PyTorch's does."""
    copies: dict[int, np.ndarray] = {}
    for _, node in module._named_state():
        if id(node) not in copies:
            copies[id(node)] = np.array(node.data if isinstance(node, Value) else node)
    return {name: copies[id(node)] for name, node in module._named_state()}


def load_state_dict(module: Module, state: Mapping[str, Any],
                    strict: bool = True) -> IncompatibleKeys:
    """Copy numbers from `state` into the module's Values and Tensors, in place.

    Values may be numpy arrays, torch tensors or anything numpy can read (`__array__`,
    `.numpy()`). Each is checked by name: its shape must be the model's, and its numbers
    must cast to the model's dtype within their kind (float64 into float32, not float into
    int). With `strict`, every name must be there and no other. Any problem is a ValueError
    listing them all, and nothing is changed.
    """
    nodes = dict(module._named_state())
    arrays, problems = {}, []
    for name, value in state.items():
        try:
            arrays[name] = _as_numpy(value)
        except (TypeError, ValueError, RuntimeError) as e:  # a bfloat16 tensor, a ragged list
            problems.append(f"{name} cannot be read as numbers ({e})")
    missing = [name for name in nodes if name not in state]
    unexpected = [name for name in state if name not in nodes]
    found = {name: (a.dtype, a.shape) for name, a in arrays.items()}
    problems += _mismatches({name: _spec(node) for name, node in nodes.items()}, found,
                            missing if strict else [], unexpected if strict else [])
    if problems:
        raise ValueError(f"state does not fit this {type(module).__name__}: {'; '.join(problems)}")
    for name, array in arrays.items():
        node = nodes.get(name)
        if isinstance(node, Value):
            node.data = float(array)
        elif node is not None:
            np.copyto(np.asarray(node), array, casting="same_kind")
    return IncompatibleKeys(missing, unexpected)


def _as_numpy(value: Any) -> np.ndarray:
    """A numpy array of value's numbers; a torch tensor is detached and moved to the CPU first."""
    for step in ("detach", "cpu", "numpy"):  # torch's way out; our Tensor has them too
        if callable(getattr(value, step, None)):
            value = getattr(value, step)()
    return np.asarray(value)


def _spec(node: Any) -> Spec:
    """The dtype and shape a node's numbers have: a Value is a 0-d float64."""
    if isinstance(node, Value):
        return np.dtype(np.float64), ()
    return np.dtype(node.dtype), tuple(node.shape)


def _mismatches(expected: Mapping[str, Spec], found: Mapping[str, Spec],
                missing: list[str], unexpected: list[str]) -> list[str]:
    """Why `found` does not fit `expected` (name -> (dtype, shape)); [] if it fits."""
    problems = []
    if missing:
        problems.append(f"missing: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected: {_listing(unexpected)}")
    for name, (dtype, shape) in found.items():
        if name not in expected:
            continue
        want_dtype, want_shape = expected[name]
        if dtype.kind not in "biufc":
            problems.append(f"{name} holds {dtype} data, not numbers")
        elif not np.can_cast(dtype, want_dtype, "same_kind"):
            problems.append(f"{name} holds {dtype} numbers, which do not fit the model's "
                            f"{want_dtype}")
        elif shape != want_shape:
            problems.append(f"{name} has shape {shape} in the checkpoint, "
                            f"{want_shape} in the model")
    return problems if len(problems) <= 12 else [*problems[:10], f"{len(problems) - 10:,} more"]


def _listing(names: list[str], most: int = 10) -> str:
    """Names for a one-line message: each printable one as it is, at most `most` of them."""
    shown = [name if isinstance(name, str) and name.isprintable() and len(name) <= 100
             else _short(name) for name in names[:most]]
    more = f" and {len(names) - most:,} more" if len(names) > most else ""
    return ", ".join(shown) + more


def _short(value: Any) -> str:
    """repr(value) cut short: what a file says goes into one line of a message."""
    shortener = reprlib.Repr()
    shortener.maxstring, shortener.maxlist, shortener.maxlong = 60, 8, 40
    return shortener.repr(value)


# --- files


def save(module: Module, path: str | os.PathLike,
         metadata: Mapping[str, str] | None = None) -> None:
    """Write the module's state_dict() to `path` as safetensors, atomically (see save_file)."""
    save_file(state_dict(module), path, metadata)


def save_file(tensors: Mapping[str, np.ndarray], path: str | os.PathLike,
              metadata: Mapping[str, str] | None = None) -> None:
    """Write named arrays to `path` as a .safetensors file, atomically.

    `metadata` (strings to strings) goes into the header beside the format version.
    """
    if os.fspath(path).endswith(".npz"):
        raise ValueError(f"{os.fspath(path)}: checkpoints are .safetensors files now, which "
                         "PyTorch loads too; give the file a .safetensors name")
    metadata = dict(metadata or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("checkpoint metadata maps strings to strings (safetensors' rule); "
                        f"got {metadata!r}")
    if VERSION_KEY in metadata:
        raise ValueError(f"metadata key {VERSION_KEY!r} is the checkpoint's own (its format "
                         "version); choose another")
    header: dict[str, Any] = {"__metadata__": {"format": "pt", **metadata,
                                               VERSION_KEY: FORMAT_VERSION}}
    arrays, offset = [], 0
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names are strings; got {name!r}")
        if name == "__metadata__":
            raise ValueError("a tensor cannot be named '__metadata__': safetensors keeps the "
                             "metadata under that name")
        array = _as_numpy(value)
        array = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)  # the format's
        if array.dtype not in CODES:
            raise TypeError(f"{name} holds {array.dtype} data, which safetensors cannot store "
                            f"(it takes {', '.join(sorted(CODES.values()))})")
        header[name] = {"dtype": CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        arrays.append(array)
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # data starts 8-aligned, as safetensors writes it
    with atomic_write(path) as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for array in arrays:
            f.write(array.reshape(-1).view(np.uint8))


def load(module: Module, path: str | os.PathLike) -> None:
    """Read a checkpoint into `module`: a .safetensors file, or an .npz of scratchgrad's first
    releases. Everything is checked against the module before any number is read; a
    ValueError naming the file says what does not fit."""
    path = os.fspath(path)
    nodes = dict(module._named_state())
    expected = {name: _spec(node) for name, node in nodes.items()}
    with _open_regular(path) as f:
        start = f.read(8)
        if start.startswith(ZIP_STARTS):  # an .npz
            _refuse_old_layout(module, path)
            state = _read_npz(f, path, expected)
        else:
            header = _read_header(f, path, start, HEADER_BASE + HEADER_PER_TENSOR * len(nodes))
            _check_version(header.metadata, path)
            found = {name: (dtype, shape) for name, (dtype, shape, _) in header.entries.items()}
            problems = _mismatches(expected, found, [n for n in nodes if n not in found],
                                   [n for n in found if n not in nodes])
            if problems:
                raise ValueError(f"checkpoint {path}: state does not fit this "
                                 f"{type(module).__name__}: {'; '.join(problems)}")
            state = _read_tensors(f, path, header)
    load_state_dict(module, state)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata of a .safetensors checkpoint (its header checked whole; no data read).

    An .npz checkpoint has none: {}.
    """
    path = os.fspath(path)
    with _open_regular(path) as f:
        start = f.read(8)
        if start.startswith(ZIP_STARTS):
            return {}
        return _read_header(f, path, start, HEADER_BASE).metadata


class Header(NamedTuple):
    """A checked safetensors header: name -> (dtype, shape, offset of its bytes in the file)."""

    entries: dict[str, tuple[np.dtype, tuple[int, ...], int]]
    metadata: dict[str, str]


def _open_regular(path: str) -> BinaryIO:
    """`path` opened for reading, or a ValueError if it is not a regular file. Opening does
    not block even on a FIFO, and the check is made on the opened file, not the name."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise ValueError(f"{path} is not a checkpoint: it is {kind}, not a regular file")
    return open(fd, "rb")


def _not_readable(path: str, why: str) -> ValueError:
    return ValueError(f"{path} is not a checkpoint scratchgrad can read (a .safetensors file, "
                      f"or an .npz of scratchgrad's first format): {why}")


def _read_header(f: BinaryIO, path: str, start: bytes, limit: int) -> Header:
    """The header after the 8 bytes `start`, checked whole against the file's size."""
    size = os.fstat(f.fileno()).st_size
    if start.startswith(b"\x93NUMPY"):
        raise _not_readable(path, "it holds one bare array (.npy), not named arrays")
    if len(start) < 8:
        raise _not_readable(path, f"it is {size} bytes long, too short for a header")
    (length,) = struct.unpack("<Q", start)
    if length > size - 8:
        raise _not_readable(path, f"it announces a header of {length:,} bytes, but only "
                                  f"{size - 8:,} follow (truncated, or another format)")
    if length > limit:
        raise _not_readable(path, f"it announces a header of {length:,} bytes, more than the "
                                  f"{limit:,} allowed (1 MiB, and 1 KiB a tensor of the model)")
    raw = f.read(length)
    if len(raw) != length or not raw.startswith(b"{"):
        raise _not_readable(path, "its header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicates,
                            parse_constant=_refuse_constant)
        return _check_header(header, size - 8 - length, 8 + length)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _not_readable(path, f"its header is not JSON ({e})") from None
    except RecursionError:
        raise _not_readable(path, "its header nests too deeply") from None
    except ValueError as e:
        raise _not_readable(path, str(e)) from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    header = dict(pairs)
    if len(header) != len(pairs):
        seen = set()
        twice = next(name for name, _ in pairs if name in seen or seen.add(name))
        raise ValueError(f"its header names {_short(twice)} twice")
    return header


def _refuse_constant(word: str) -> None:
    raise ValueError(f"its header holds {word}, which JSON does not allow")


def _check_header(header: Any, data_size: int, data_start: int) -> Header:
    """Entries whose byte ranges tile the `data_size` bytes after the header exactly."""
    if not isinstance(header, dict):
        raise ValueError("its header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ValueError("its __metadata__ is not a map of strings to strings")
    entries, spans = {}, []
    for name, info in header.items():
        if not (isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= info.keys()):
            raise ValueError(f"its entry {_short(name)} lacks a dtype, shape or data_offsets")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(code, str) and code in DTYPES):
            raise ValueError(f"{_short(name)} has dtype {_short(code)}, which numpy cannot "
                             f"hold: it takes {', '.join(DTYPES)} (in PyTorch, convert with "
                             ".float() first)")
        if not (isinstance(shape, list) and len(shape) <= MAX_DIMS and all(map(_count, shape))):
            raise ValueError(f"{_short(name)} has shape {_short(shape)}: not a list of at most "
                             f"{MAX_DIMS} sizes (whole numbers >= 0 that fit in 64 bits)")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(n) for n in offsets)
                and offsets[0] <= offsets[1]):
            raise ValueError(f"{_short(name)} has data_offsets {_short(offsets)}: not "
                             "[begin, end] with 0 <= begin <= end")
        dtype = np.dtype(DTYPES[code])
        needed = math.prod(shape) * dtype.itemsize
        if offsets[1] - offsets[0] != needed:
            raise ValueError(f"{_short(name)} is {code} of shape {tuple(shape)}, {needed:,} bytes, "
                             f"but its data_offsets {offsets} span {offsets[1] - offsets[0]:,}")
        entries[name] = dtype, tuple(shape), data_start + offsets[0]
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            how = "overlaps the tensor before it" if begin < end else "leaves a gap before it"
            raise ValueError(f"{_short(name)} starts at byte {begin:,} of the data: it {how} "
                             f"(which ends at {end:,})")
        end = stop
    if end != data_size:
        raise ValueError(f"its tensors take {end:,} bytes, but {data_size:,} follow the header "
                         f"({'truncated' if data_size < end else 'bytes left over'})")
    return Header(entries, metadata)


def _count(n: Any) -> bool:
    """A JSON whole number that fits a u64, as safetensors' sizes and offsets must (not a
    bool, nor a float such as 2.0)."""
    return type(n) is int and 0 <= n < 1 << 64


def _check_version(metadata: Mapping[str, str], path: str) -> None:
    version = metadata.get(VERSION_KEY, FORMAT_VERSION)  # none: PyTorch's, so today's layout
    if version != FORMAT_VERSION:
        raise ValueError(f"{path} is a checkpoint of format {_short(version)}; this "
                         f"scratchgrad reads format {FORMAT_VERSION} (and PyTorch's safetensors "
                         "files): upgrade scratchgrad to load it")


def _read_tensors(f: BinaryIO, path: str, header: Header) -> dict[str, np.ndarray]:
    """Every entry's numbers, read straight into arrays of its (already checked) size."""
    state = {}
    for name, (dtype, shape, offset) in header.entries.items():
        array = np.empty(shape, dtype)
        buffer = array.reshape(-1).view(np.uint8)
        f.seek(offset)
        done = 0
        while done < len(buffer):
            got = f.readinto(buffer[done:])
            if not got:
                raise _not_readable(path, f"it ended inside {_short(name)} (changed while "
                                          "reading?)")
            done += got
        if dtype == bool and buffer.max(initial=0) > 1:
            raise _not_readable(path, f"{_short(name)} is BOOL but holds bytes other than 0 and 1")
        state[name] = array
    return state


# --- .npz, the first format


def _refuse_old_layout(module: Module, path: str) -> None:
    """Refuse an .npz for a module holding an nn.Linear: it may be in the old layout."""
    from nn.layers import Linear  # not at the top: nn.layers imports nn.module, which imports this

    linears = [name or type(module).__name__ for name, m in module.named_modules()
               if isinstance(m, Linear)]
    if linears:
        raise ValueError(
            f"{path} is an .npz checkpoint, scratchgrad's first format, which stored nn.Linear "
            "weights as (in_features, out_features); nn.Linear now holds PyTorch's (out_features, "
            "in_features), and a square weight would load transposed without a word, so the "
            f"file is refused for this model (its Linear layers: {_listing(linears)}). Train "
            "again to write a .safetensors checkpoint, or read the arrays with numpy.load, "
            "transpose each Linear weight (.T) and pass them to load_state_dict")


_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}


def _read_npz(f: BinaryIO, path: str, expected: Mapping[str, Spec]) -> dict[str, np.ndarray]:
    """The arrays of an .npz, after every entry's .npy header fits `expected`."""
    with _not_an_npz(path):
        archive = zipfile.ZipFile(f)
        entries = _npy_entries(archive)
    found = {name: header for name, (_, header) in entries.items()}
    problems = _mismatches(expected, found, [n for n in expected if n not in found],
                           [n for n in found if n not in expected])
    if problems:
        raise ValueError(f"checkpoint {path}: state does not fit: {'; '.join(problems)}")
    with _not_an_npz(path):
        return {name: _read_npy(archive, info) for name, (info, _) in entries.items()}


def _npy_entries(archive: zipfile.ZipFile) -> dict[str, tuple[zipfile.ZipInfo, Spec]]:
    """Name -> (zip entry, (dtype, shape)) from each entry's .npy header, reading no data.

    Entries must be stored or deflated (as numpy's savez and savez_compressed write them),
    not encrypted; and each entry's size, as the zip declares it, must be what its header
    promises: the zip reader never inflates an entry past its declared size, so reading
    the data later costs exactly the memory the (checked) shapes say.
    """
    entries = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise ValueError(f"entry {_short(info.filename)} is not an .npy array")
        if name in entries:
            raise ValueError(f"entry {_short(info.filename)} is there twice")
        if info.flag_bits & 0x1:
            raise ValueError(f"entry {_short(info.filename)} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"entry {_short(info.filename)} is compressed by method "
                             f"{info.compress_type}; numpy's .npz files are stored or deflated")
        with archive.open(info) as entry:
            version = np.lib.format.read_magic(entry)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f"entry {_short(info.filename)} has .npy format version {version}")
            shape, _, dtype = _NPY_HEADER_READERS[version](entry)
            needed = entry.tell() + math.prod(shape) * dtype.itemsize
        if info.file_size != needed:
            raise ValueError(f"entry {_short(info.filename)} declares {info.file_size:,} bytes, "
                             f"but its header ({dtype}, shape {shape}) makes {needed:,}")
        entries[name] = info, (dtype, shape)
    return entries


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """The array in one entry (its header already checked by _npy_entries)."""
    with archive.open(info) as entry:
        return np.lib.format.read_array(entry, allow_pickle=False)


@contextlib.contextmanager
def _not_an_npz(path: str) -> Iterator[None]:
    """Turn what a damaged zip makes the readers raise into one ValueError naming the file."""
    try:
        yield
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise _not_readable(path, f"a damaged .npz ({e})") from None
