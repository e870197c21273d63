"""The bytes of a TensorBoard events file, encoded by hand: protobuf fields and the TFRecord
frame around each record, so that writing one needs neither protobuf nor TensorBoard.

An events file is a row of records, each

    u64 length | u32 masked CRC32C of those 8 bytes | data | u32 masked CRC32C of the data

(little-endian), whose data is one serialized `tensorboard.Event` protobuf. A protobuf
message is a row of fields, each a key (field number << 3 | wire type, as a varint) and a
value: a varint (wire type 0), 8 bytes (1: double), a length and that many bytes (2:
strings, bytes, nested messages, packed repeated numbers) or 4 bytes (5: float). The
encoders leave out a field at its zero value, as proto3 does for fields without presence;
`always=True` writes it anyway, for fields that have presence (members of a oneof,
messages that are set).
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

_CRC32C_POLYNOMIAL = 0x82F63B78  # Castagnoli's, bit-reversed
_MASK_DELTA = 0xA282EAD8


def _crc32c_table() -> list[int]:
    """The CRC of each byte value: eight shift-and-divide rounds over all 256 at once."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_CRC32C_POLYNOMIAL), table >> 1)
    return table.tolist()


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) of data; crc32c(b"123456789") is 0xE3069283."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:  # each step depends on the one before: there is no array form
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: the CRC rotated and offset, so that a CRC of data that itself
    holds CRCs does not come out trivially."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord: data framed by its length and the two checksums."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


# --- protobuf fields ---

def varint(n: int) -> bytes:
    """n as a protobuf varint: 7 bits a byte, low first; negative ints as their 64-bit two's
    complement (ten bytes), as int64 fields store them."""
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def integer(number: int, n: int, always: bool = False) -> bytes:
    """An int32/int64/enum/bool field."""
    return varint(number << 3) + varint(int(n)) if n or always else b""


def double(number: int, x: float, always: bool = False) -> bytes:
    """A double field (a zero's sign counts: -0.0 is written, as protobuf does)."""
    packed = struct.pack("<d", x)
    return varint(number << 3 | 1) + packed if always or packed != bytes(8) else b""


def single(number: int, x: float, always: bool = False) -> bytes:
    """A float field: x rounded to float32 (beyond its range, to inf, as protobuf does)."""
    with np.errstate(over="ignore"):
        packed = np.float32(x).astype("<f4").tobytes()
    return varint(number << 3 | 5) + packed if always or packed != bytes(4) else b""


def length_delimited(number: int, data: bytes | str, always: bool = False) -> bytes:
    """A string (as UTF-8), bytes, or an encoded message field."""
    if isinstance(data, str):
        data = data.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data if data or always else b""


def packed_doubles(number: int, values: Iterable[float]) -> bytes:
    """A repeated double field, packed as proto3 packs it: one length, then the raw doubles."""
    return length_delimited(number, np.asarray(values, dtype="<f8").tobytes())


def packed_singles(number: int, values: Iterable[float]) -> bytes:
    """A repeated float field, packed."""
    return length_delimited(number, np.asarray(values, dtype="<f4").tobytes())
