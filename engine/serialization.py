"""Checkpoints in PyTorch's own `.pt` format: `engine.save` and `engine.load`, as torch.save
and torch.load, so that `import engine as torch` programs (nanoGPT's train.py and sample.py)
keep their checkpoints, and PyTorch reads them and we read PyTorch's.

A file from torch.save (PyTorch >= 1.6) is a zip archive, stored uncompressed, whose
records sit in one folder named after the file (`ckpt/` for ckpt.pt, `archive/` for a
file object):

    ckpt/data.pkl     the object as a protocol-2 pickle in which every tensor is the call
                      torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
                      requires_grad, hooks), a Parameter that tensor wrapped in
                      torch._utils._rebuild_parameter(tensor, requires_grad, hooks), and
                      every storage the persistent id
                      ('storage', torch.FloatStorage, key, location, numel)
    ckpt/data/<key>   each storage's raw little-endian bytes
    ckpt/byteorder    "little"
    ckpt/version      the archive format, "3"

torch 2.x also writes `.format_version`, `.storage_alignment` and `.data/serialization_id`;
its reader treats all three as optional, and we leave them out: `.format_version` 1 would
promise miniz's exact record layout (data descriptors after each record), which Python's
zipfile does not write, and the id would make a file depend on more than its contents. The
storages still start at multiples of 64 bytes, as PyTorch's do, so either side can map them.

Writing. The pickle must name torch's functions, but this module imports numpy only, and
the standard pickler writes a global only after importing it to check it. So `_Writer`
emits the few protocol-2 opcodes a checkpoint needs itself (containers, str, numbers,
tensors); walking the object once is also where it finds anything else and names it by its
key path. Tensors and numpy arrays whose memory is one C-contiguous numpy base (tied
weights, an array twice, slices of one array) share one storage, as in PyTorch.

Reading never runs an unrestricted pickle: a pickle can call any importable function.
`_Unpickler` resolves a global only from ALLOWED (a subset of what torch.load's weights-only
unpickler allows: the rebuild functions, the storage types, OrderedDict, torch.Size, bytes),
each wrapped in a `_Global` that refuses to be modified (pickle's BUILD opcode) and refuses
to be called unless it is a function; every other name is refused before anything runs.
Tensors come back as engine Tensors viewing their storage (tensors that shared memory in the
file share it again), Parameters as nn.Parameter, on the CPU, the only device here.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

from engine.atomic import atomic_write
from engine.devices import check, device
from engine.dtypes import NAMES, DType
from engine.printing import Size
from engine.tensor import Tensor

# numpy's little-endian dtype -> the name of PyTorch's storage for it (torch.<name>Storage);
# bfloat16 and the float8s have no numpy dtype, and the engine holds no complex numbers
STORAGES = {"<f2": "Half", "<f4": "Float", "<f8": "Double", "|i1": "Char", "|u1": "Byte",
            "<i2": "Short", "<i4": "Int", "<i8": "Long", "|b1": "Bool"}
# the unsigned dtypes PyTorch stores as raw bytes with the dtype beside (_rebuild_tensor_v3)
UNSIGNED = {"uint16": "<u2", "uint32": "<u4", "uint64": "<u8"}
ALIGNMENT = 64  # where storages start in the file, as torch.save places them
VERSION = b"3\n"  # the archive format torch.save writes (its readers take 1 to 10)
RECORD = "data/{}"  # a storage's record, in the archive's folder


# --- save


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_protocol: int = 2) -> None:
    """Write `obj` (tensors, numpy arrays, and dicts, lists, tuples, sets and Counters of
    them, str, bytes, int, float, complex, bool, None, dtypes, devices and sizes: what
    torch.load(weights_only=True) takes) to `f`, a
    path or a binary file, as torch.save does: PyTorch's torch.load(f, weights_only=True)
    reads it. A path is written atomically. The pickle is protocol 2 whatever
    `pickle_protocol` asks (2 to 5): the tensors' numbers are outside it, so no object here
    needs a later protocol, and every torch.load reads 2."""
    if pickle_protocol not in (2, 3, 4, 5):
        raise ValueError(f"save takes pickle_protocol 2 to 5, not {pickle_protocol!r}")
    writer = _Writer()
    data = writer.dump(obj)  # before the file is opened: an unsavable object costs nothing
    if isinstance(f, (str, os.PathLike)):
        with atomic_write(f) as file:
            _write_zip(file, Path(f).stem or "archive", data, writer.storages)
    elif callable(getattr(f, "write", None)):
        _write_zip(f, "archive", data, writer.storages)
    else:
        raise TypeError(f"save writes to a path or a binary file, not {type(f).__name__}")


def _write_zip(file: IO[bytes], folder: str, pickled: bytes, storages: dict[str, np.ndarray]) -> None:
    """The zip archive torch.load reads: the pickle, byte order, each storage, the version."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{folder}/data.pkl", pickled)
        zf.writestr(f"{folder}/byteorder", "little")
        for key, base in storages.items():
            data = memoryview(base.reshape(-1).view(np.uint8))
            info = zipfile.ZipInfo(f"{folder}/{RECORD.format(key)}")
            info.file_size = data.nbytes
            zip64 = data.nbytes * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule
            # pad the local header with an extra field (id 'FB', miniz's for this) so the
            # bytes start at a multiple of ALIGNMENT; zip64 adds a 20-byte field of its own
            header = 30 + len(info.filename.encode()) + 4 + (20 if zip64 else 0)
            padding = -(zf.fp.tell() + header) % ALIGNMENT
            info.extra = struct.pack("<HH", 0x4246, padding) + b"Z" * padding
            with zf.open(info, "w", force_zip64=zip64) as dest:
                dest.write(data)
        zf.writestr(f"{folder}/version", VERSION)


class _Writer:
    """A protocol-2 pickle of a checkpoint in torch.save's terms, written opcode by opcode
    (pickletools documents each); `storages` collects the arrays that hold the tensors."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.storages: dict[str, np.ndarray] = {}  # key -> the array written as data/<key>
        self._keys: dict[tuple[int, str], str] = {}  # (id of a base, dtype) -> its key
        self._open: set[int] = set()  # containers on the current path, to refuse cycles
        # id of an object written -> its place in the memo, and the object, kept alive so
        # that no later object (a shape tuple made for the pickle) takes its id
        self._memo: dict[int, tuple[int, Any]] = {}

    def dump(self, obj: Any) -> bytes:
        self.out.write(pickle.PROTO + b"\x02")
        self._save(obj, "checkpoint")
        self.out.write(pickle.STOP)
        return self.out.getvalue()

    def _save(self, obj: Any, path: str) -> None:
        write = self.out.write
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            obj = obj.item()  # a numpy number as the Python one (torch's loader refuses numpy's)
        if obj is None:
            write(pickle.NONE)
        elif isinstance(obj, bool):
            write(pickle.NEWTRUE if obj else pickle.NEWFALSE)
        elif isinstance(obj, int):
            self._int(obj)
        elif isinstance(obj, float):
            write(pickle.BINFLOAT + struct.pack(">d", obj))
        elif isinstance(obj, str):
            text = obj.encode("utf-8", "surrogatepass")  # as pickle does
            write(pickle.BINUNICODE + struct.pack("<I", len(text)) + text)
        elif id(obj) in self._memo:  # written before: the same object again, as pickle keeps
            place = self._memo[id(obj)][0]  # it (two names for one tensor load as one)
            write(pickle.BINGET + bytes([place]) if place < 256 else
                  pickle.LONG_BINGET + struct.pack("<I", place))
            return
        elif isinstance(obj, (Tensor, np.ndarray)):
            self._tensor(obj, path)
        elif isinstance(obj, (bytes, bytearray, complex, set, Counter, Size, DType, device)):
            self._constructed(obj, path)
        elif isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(f"{path} contains itself; a checkpoint must be a tree")
            self._open.add(id(obj))
            self._container(obj, path)
            self._open.discard(id(obj))
        else:
            raise TypeError(f"{path} is a {type(obj).__module__}.{type(obj).__qualname__}; a "
                            "checkpoint holds what torch.load(weights_only=True) reads: "
                            "tensors, numpy arrays, dict, list, tuple, set, str, bytes, int, "
                            "float, complex, bool, None, dtypes and devices; save this "
                            "object's numbers or settings instead")
        if not isinstance(obj, (bool, int, float, str, type(None))):  # (values, not objects)
            place = len(self._memo)
            self._memo[id(obj)] = place, obj
            write(pickle.BINPUT + bytes([place]) if place < 256 else
                  pickle.LONG_BINPUT + struct.pack("<I", place))

    def _constructed(self, obj: Any, path: str) -> None:
        """An object pickle protocol 2 writes as a call of its type, as pickle writes it
        (a set, a Counter, bytes, ...), or a dtype by its name (torch.float16)."""
        if isinstance(obj, DType):
            self.out.write(pickle.GLOBAL + f"torch\n{repr(obj).removeprefix('torch.')}\n"
                           .encode())
        elif isinstance(obj, bytes):
            self._call("_codecs", "encode", obj.decode("latin1"), "latin1")
        elif isinstance(obj, bytearray):
            self._call("builtins", "bytearray", bytes(obj))
        elif isinstance(obj, complex):
            self._call("builtins", "complex", obj.real, obj.imag)
        elif isinstance(obj, set):
            self._call("builtins", "set", list(obj))
        elif isinstance(obj, Counter):
            self._call("collections", "Counter", dict(obj))
        elif isinstance(obj, Size):
            self._call("torch", "Size", tuple(obj))
        else:
            self._call("torch", "device", str(obj))

    def _int(self, n: int) -> None:
        if 0 <= n < 256:
            self.out.write(pickle.BININT1 + bytes([n]))
        elif -2**31 <= n < 2**31:
            self.out.write(pickle.BININT + struct.pack("<i", n))
        else:  # two's complement, little-endian, with room for the sign bit
            data = n.to_bytes(n.bit_length() // 8 + 1, "little", signed=True)
            self.out.write(pickle.LONG1 + bytes([len(data)]) + data if len(data) < 256
                           else pickle.LONG4 + struct.pack("<I", len(data)) + data)

    def _container(self, obj: dict | list | tuple, path: str) -> None:
        write = self.out.write
        if isinstance(obj, dict):
            if isinstance(obj, OrderedDict):
                self._call("collections", "OrderedDict")
            else:
                write(pickle.EMPTY_DICT)
            write(pickle.MARK)
            for key, value in obj.items():
                self._save(key, f"{path} (a key, {key!r:.40})")
                self._save(value, f"{path}[{key!r}]")
            write(pickle.SETITEMS)
            return
        is_list = isinstance(obj, list)
        write(pickle.EMPTY_LIST + pickle.MARK if is_list else pickle.MARK)
        for i, item in enumerate(obj):
            self._save(item, f"{path}[{i}]")
        write(pickle.APPENDS if is_list else pickle.TUPLE)

    def _call(self, module: str, name: str, *args: Any) -> None:
        """module.name(*args), written as GLOBAL, the arguments, REDUCE."""
        self.out.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self._save(tuple(args), f"the arguments of {module}.{name}")
        self.out.write(pickle.REDUCE)

    def _tensor(self, obj: Tensor | np.ndarray, path: str) -> None:
        """`obj` as torch.save writes a tensor: _rebuild_tensor_v2 over a persistent storage
        (v3 over raw bytes, with the dtype, for uint16, uint32 and uint64), inside
        _rebuild_parameter for an nn.Parameter."""
        array = obj._data if isinstance(obj, Tensor) else obj
        little = array.dtype.newbyteorder("<")
        unsigned = {code: name for name, code in UNSIGNED.items()}.get(little.str)
        if little.str not in STORAGES and not unsigned:
            raise TypeError(f"{path} holds {array.dtype} numbers, which a PyTorch checkpoint "
                            f"does not take here; convert it to one of {_dtype_names()}")
        if array.dtype != little:  # big-endian numbers: stored little-endian, as a copy
            array = array.astype(little)
        base, offset, strides = _storage_of(array)
        key = self._keys.setdefault((id(base), little.str), str(len(self._keys)))
        self.storages[key] = base  # also keeps the base alive, so its id stays its own
        requires_grad = isinstance(obj, Tensor) and obj.requires_grad
        parameter = _parameter_class()
        is_parameter = parameter is not None and isinstance(obj, parameter)
        if is_parameter:
            self.out.write(pickle.GLOBAL + b"torch._utils\n_rebuild_parameter\n" + pickle.MARK)
        rebuild = "_rebuild_tensor_v3" if unsigned else "_rebuild_tensor_v2"
        self.out.write(pickle.GLOBAL + f"torch._utils\n{rebuild}\n".encode() + pickle.MARK)
        self.out.write(pickle.MARK)  # the storage's persistent id
        self._save("storage", path)
        storage = "torch.storage\nUntypedStorage" if unsigned else \
            f"torch\n{STORAGES[little.str]}Storage"
        self.out.write(pickle.GLOBAL + f"{storage}\n".encode())
        for item in (key, "cpu", base.nbytes if unsigned else base.nbytes // array.itemsize):
            self._save(item, path)
        self.out.write(pickle.TUPLE + pickle.BINPERSID)
        for item in (offset, array.shape, strides, requires_grad and not is_parameter):
            self._save(item, path)
        self._call("collections", "OrderedDict")  # backward hooks: none are saved
        if unsigned:
            self.out.write(pickle.GLOBAL + f"torch\n{unsigned}\n".encode())
        self.out.write(pickle.TUPLE + pickle.REDUCE)
        if is_parameter:
            self._save(requires_grad, path)
            self._call("collections", "OrderedDict")
            self.out.write(pickle.TUPLE + pickle.REDUCE)


def _storage_of(array: np.ndarray) -> tuple[np.ndarray, int, tuple[int, ...]]:
    """The C-contiguous array whose memory holds `array`, with `array`'s offset and strides
    counted in its elements: the base numpy views share, if `array` sits in it as PyTorch
    can describe (non-negative strides, whole elements), else a contiguous copy."""
    base = array
    while isinstance(base.base, np.ndarray):
        base = base.base
    size = array.itemsize
    start = array.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if (array.size and base.flags.c_contiguous and base.nbytes % size == 0 and start % size == 0
            and all(s >= 0 and s % size == 0 for s in array.strides)):
        return base, start // size, tuple(s // size for s in array.strides)
    copy = np.array(array, order="C")  # np.array, not ascontiguousarray: it keeps 0-d 0-d
    return copy, 0, tuple(s // size for s in copy.strides)


def _parameter_class() -> type | None:
    """nn.Parameter if nn is loaded (if it is not, nothing can be a Parameter): engine imports
    nothing from nn."""
    return getattr(sys.modules.get("nn.parameter"), "Parameter", None)


def _dtype_names() -> str:
    return ", ".join(str(np.dtype(code)) for code in STORAGES)


# --- load


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None,
         weights_only: bool | None = None, mmap: bool | None = None) -> Any:
    """The object torch.save (or `save`) wrote to `f`, a path or a binary file, with engine
    Tensors for its tensors, on the CPU.

    Only what a checkpoint holds is read (as torch.load with weights_only=True, whatever
    `weights_only` says): a pickle naming any other function is refused before it runs.
    `map_location` may be None, 'cpu', a device, a dict of saved location -> 'cpu' or a
    function (storage, location) -> storage; a GPU is refused. With `mmap=True` (a path, an
    uncompressed archive) storages are mapped from the file copy-on-write, not read.
    """
    name = str(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "the file object")
    _check_target(map_location, name)
    # a file object stays open for its owner, as in torch.load
    with open(f, "rb") if isinstance(f, (str, os.PathLike)) else _seekable(f) as file:
        start = file.read(4)
        file.seek(-len(start), io.SEEK_CUR)
        if start != b"PK\x03\x04":
            raise ValueError(f"{name} is not a PyTorch zip checkpoint (it starts with "
                             f"{start!r}, not a zip's b'PK\\x03\\x04'): files from PyTorch before "
                             "1.6 or saved with _use_new_zipfile_serialization=False are not read "
                             "here; load it in PyTorch and torch.save it again")
        if mmap and not isinstance(f, (str, os.PathLike)):
            raise ValueError(f"load(mmap=True) maps a file by its path; {name} is a file object")
        try:
            with zipfile.ZipFile(file) as zf:
                reader = _Unpickler(zf, name, map_location, f if mmap else None)
                return reader.load()
        except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, UnicodeDecodeError,
                NotImplementedError) as e:  # (the last two: damaged names and headers)
            raise ValueError(f"{name} is a truncated or corrupt zip ({e}); save the "
                             "checkpoint again or copy it anew") from None


def _seekable(f: IO[bytes]) -> contextlib.AbstractContextManager[IO[bytes]]:
    """`f` (left open) if it can seek, as zipfile needs, else its bytes in memory."""
    return contextlib.nullcontext(f if f.seekable() else io.BytesIO(f.read()))


def _check_target(target: Any, name: str) -> None:
    """Refuse a map_location that is, or maps to, anything but the CPU."""
    if isinstance(target, dict):
        for value in target.values():
            _check_target(value, name)
    elif target is not None and not callable(target):
        try:
            check(target if isinstance(target, device) else str(target))
        except RuntimeError as e:
            raise RuntimeError(f"cannot load {name} onto {target!r}: {e}") from None


class _Global:
    """What a pickle's global name resolves to: a function it may call, or a storage type
    (`dtype`) it may name; neither can be changed by the pickle (BUILD calls __setstate__)."""

    __slots__ = ("name", "function", "dtype")

    def __init__(self, name: str, function: Callable | None = None, dtype: str = "") -> None:
        self.name, self.function, self.dtype = name, function, dtype

    def __call__(self, *args: Any) -> Any:
        if self.function is None:
            raise pickle.UnpicklingError(f"the pickle calls {self.name}, which is a type here")
        return self.function(*args)

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError(f"the pickle tries to modify {self.name}: refused")


class _Unpickler(pickle.Unpickler):
    """The restricted unpickler: globals from ALLOWED only, storages from the zip's records."""

    def __init__(self, zf: zipfile.ZipFile, name: str, map_location: Any,
                 mmap_path: str | os.PathLike | None) -> None:
        self.zf, self.name, self.map_location, self.mmap_path = zf, name, map_location, mmap_path
        records = zf.namelist()
        self.folder = records[0].partition("/")[0] if records else ""  # torch.load's rule
        try:
            pickled = zf.read(f"{self.folder}/data.pkl")
        except KeyError:
            raise ValueError(f"{name} is a zip without {self.folder}/data.pkl, so not a "
                             "torch.save checkpoint (a TorchScript model? torch.jit.load reads "
                             "those)") from None
        # EXT opcodes fetch globals from copyreg's process-wide cache, around find_class
        for opcode, arg, _ in pickletools.genops(pickled):
            if opcode.name.startswith("EXT"):
                raise pickle.UnpicklingError(f"{name}: the pickle uses copyreg extension {arg}, "
                                             "refused for safety")
        super().__init__(io.BytesIO(pickled))
        self.storages: dict[str, np.ndarray] = {}
        self.allowed = {
            ("torch._utils", "_rebuild_tensor_v2"): self._rebuild_tensor,
            ("torch._utils", "_rebuild_tensor_v3"): self._rebuild_typed_tensor,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("collections", "OrderedDict"): OrderedDict,
            ("torch", "Size"): Size,
            ("torch", "device"): device,
            ("_codecs", "encode"): _latin1,  # how protocol 2 writes bytes
            # the constructors torch.load(weights_only=True) allows too: they build values
            ("builtins", "set"): set, ("builtins", "complex"): complex,
            ("builtins", "bytearray"): bytearray,
            ("collections", "Counter"): Counter,  # (MultiStepLR's milestones)
        }

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # (protocol 2's name for builtins, as PyTorch writes it)
            module = "builtins"
        if (module, name) in self.allowed:
            return _Global(f"{module}.{name}", self.allowed[module, name])
        if module == "torch" and isinstance(NAMES.get(name), DType):
            return NAMES[name]  # a dtype, a value (torch.float16 in an optimizer's state)
        # torch >= 2.3 writes the dtypes without a storage type of their own (uint16, ...)
        # as raw bytes, and the dtype beside them (_rebuild_tensor_v3)
        if (module, name) == ("torch.storage", "UntypedStorage"):
            return _Global("torch.storage.UntypedStorage", dtype="|u1")
        if module == "torch" and name in UNSIGNED:
            return _Global(f"torch.{name}", dtype=UNSIGNED[name])
        if module == "torch" and name.endswith("Storage"):
            dtype = {v: k for k, v in STORAGES.items()}.get(name.removesuffix("Storage"))
            if dtype:
                return _Global(f"torch.{name}", dtype=dtype)
            raise ValueError(f"{self.name} holds a tensor of torch.{name}'s type, which numpy "
                             f"and this engine do not have (bfloat16 among them): convert it in "
                             f"PyTorch to one of {_dtype_names()} and save it again")
        raise pickle.UnpicklingError(
            f"{self.name}: the pickle asks for {module}.{name}, which was refused for safety "
            "(a checkpoint read here holds tensors and plain containers only). If you trust "
            "the file, load it in PyTorch with weights_only=False and save its tensors again")

    def persistent_load(self, pid: Any) -> np.ndarray:
        """The numbers of storage `key`, read once however many tensors view them."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")
                and isinstance(pid[1], _Global) and pid[1].dtype and isinstance(pid[2], str)
                and isinstance(pid[4], int) and pid[4] >= 0):
            raise pickle.UnpicklingError(f"{self.name}: a persistent id {pid!r:.80} is not a "
                                         "torch storage")
        _, kind, key, location, numel = pid
        if key not in self.storages:
            storage = self._read(key, np.dtype(kind.dtype), numel)
            target = self.map_location
            if callable(target) and not isinstance(target, dict):
                given = Tensor(storage)  # (PyTorch's is a storage: .cpu() and the like work)
                mapped = target(given, location)
                if mapped is not None and mapped is not given and not (
                        isinstance(mapped, Tensor) and mapped._data is storage):
                    raise RuntimeError(f"cannot load {self.name}: map_location returned "
                                       f"{mapped!r:.60} for a storage on {location!r}; here "
                                       "storages stay on the CPU (return it unchanged)")
            elif isinstance(target, dict):
                _check_target(target.get(location, location), self.name)
            self.storages[key] = storage
        return self.storages[key]

    def _read(self, key: str, dtype: np.dtype, numel: int) -> np.ndarray:
        record = f"{self.folder}/{RECORD.format(key)}"
        try:
            info = self.zf.getinfo(record)
        except KeyError:
            raise ValueError(f"{self.name} has no record {record} for a storage its pickle "
                             "names; the file is damaged: save it again") from None
        if info.file_size != numel * dtype.itemsize:
            short = "shorter than" if info.file_size < numel * dtype.itemsize else "not"
            raise ValueError(f"{self.name}: storage {record} holds {info.file_size} bytes, "
                             f"{short} the {numel} x {dtype.itemsize} its tensors need; the "
                             "file is damaged: save it again")
        if self.mmap_path is None or numel == 0:
            storage = np.empty(numel, dtype)
            with self.zf.open(info) as src:
                src.readinto(memoryview(storage.view(np.uint8)))
                src.read(1)  # the end: zipfile checks the CRC there
            return storage
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"load(mmap=True) maps uncompressed records; {record} in "
                             f"{self.name} is compressed: load it without mmap")
        with open(self.mmap_path, "rb") as raw:  # the data begins after the local header
            raw.seek(info.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", raw.read(4))
        start = info.header_offset + 30 + name_length + extra_length
        return np.memmap(self.mmap_path, dtype, "c", start, (numel,))

    def _rebuild_tensor(self, storage: Any, offset: Any, size: Any, stride: Any,
                        requires_grad: Any, hooks: Any = None, metadata: Any = None) -> Tensor:
        """torch._utils._rebuild_tensor_v2: a Tensor viewing `storage` from `offset` with
        `size` and `stride`, after checking that the view stays inside the storage."""
        def counts(xs: Any) -> bool:
            return isinstance(xs, tuple) and all(isinstance(x, int) and x >= 0 for x in xs)
        if not (isinstance(storage, np.ndarray) and counts((offset,)) and counts(size)
                and counts(stride) and len(size) == len(stride)
                and isinstance(requires_grad, bool)):
            raise pickle.UnpicklingError(f"{self.name}: a tensor's description is malformed "
                                         f"(offset {offset!r:.40}, size {size!r:.60}, stride "
                                         f"{stride!r:.60})")
        if 0 in size:
            return Tensor(np.empty(size, storage.dtype), requires_grad=requires_grad)
        end = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if end >= storage.size:
            raise ValueError(f"{self.name}: a tensor of size {tuple(size)} needs {end + 1} "
                             f"elements of its storage, which holds {storage.size}; the file "
                             "is damaged: save it again")
        view = np.lib.stride_tricks.as_strided(
            storage[offset:], size, tuple(s * storage.itemsize for s in stride))
        return Tensor(view, requires_grad=requires_grad)


    def _rebuild_typed_tensor(self, storage: Any, offset: Any, size: Any, stride: Any,
                              requires_grad: Any, hooks: Any, dtype: Any,
                              metadata: Any = None) -> Tensor:
        """torch._utils._rebuild_tensor_v3: _rebuild_tensor_v2 over raw bytes read as `dtype`."""
        if not (isinstance(dtype, _Global) and dtype.dtype and isinstance(storage, np.ndarray)
                and storage.dtype == np.uint8 and storage.size % np.dtype(dtype.dtype).itemsize
                == 0):
            raise pickle.UnpicklingError(f"{self.name}: a typed tensor's description is "
                                         f"malformed (dtype {dtype!r:.40})")
        return self._rebuild_tensor(storage.view(dtype.dtype), offset, size, stride,
                                    requires_grad, hooks, metadata)


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any, state: Any = None) -> Any:
    """torch._utils._rebuild_parameter(_with_state): `data` as an nn.Parameter."""
    from nn.parameter import Parameter  # on use, like engine.nn: engine imports nothing from nn
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise pickle.UnpicklingError(f"a parameter's description is malformed ({data!r:.40})")
    if state:
        raise ValueError(f"a parameter carries Python attributes {sorted(state)!r:.80}, which "
                         "this engine's Parameter does not hold: save its state_dict instead")
    return Parameter(data, requires_grad=requires_grad)


def _latin1(text: Any, encoding: str = "latin1") -> bytes:
    """_codecs.encode as protocol 2 uses it for bytes (text holding one byte per char)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode({text!r:.40}, {encoding!r:.20}) refused")
    return text.encode("latin1")
