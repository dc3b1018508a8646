"""The content hashes storage services report, computed locally so an unchanged file is skipped.

Each store compares the hash its API returns for the remote copy with the same hash of the local
file: Google Drive ``md5Checksum``, Dropbox ``content_hash``, Microsoft Graph ``sha256Hash`` /
``sha1Hash`` / ``quickXorHash``.  One read of the file computes every hash asked for.
"""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

CHUNK = 4 * 1024 * 1024          # Dropbox's block size; also a sensible read size
QUICKXOR_WIDTH = 160             # bits in a QuickXorHash
QUICKXOR_SHIFT = 11


class QuickXorHash:
    """Microsoft's QuickXorHash (OneDrive for Business reports only this one).

    Byte ``n`` of the content is XORed into a 160-bit ring at bit ``11 * n``; the content length
    is XORed into the last 8 bytes.  Bytes 160 apart land on the same bits, so the data is first
    folded to 160 bytes with big-integer XORs, which keeps this fast in pure Python.
    """

    _RING = (1 << QUICKXOR_WIDTH) - 1

    def __init__(self) -> None:
        self._folded = bytearray(QUICKXOR_WIDTH)   # XOR of all bytes at each position mod 160
        self._length = 0

    def update(self, data: bytes) -> None:
        offset = self._length % QUICKXOR_WIDTH
        if offset:  # realign so that the fold below starts at position 0 of the ring
            head = data[:QUICKXOR_WIDTH - offset]
            for i, byte in enumerate(head):
                self._folded[offset + i] ^= byte
            self._length += len(head)
            data = data[len(head):]
        if not data:
            return
        whole = len(data) - len(data) % QUICKXOR_WIDTH
        if whole:
            acc = 0
            for start in range(0, whole, QUICKXOR_WIDTH):
                acc ^= int.from_bytes(data[start:start + QUICKXOR_WIDTH], "little")
            for i, byte in enumerate(acc.to_bytes(QUICKXOR_WIDTH, "little")):
                self._folded[i] ^= byte
        for i, byte in enumerate(data[whole:]):
            self._folded[i] ^= byte
        self._length += len(data)

    def digest(self) -> bytes:
        ring = 0
        for position, byte in enumerate(self._folded):
            if byte:
                shifted = byte << ((position * QUICKXOR_SHIFT) % QUICKXOR_WIDTH)
                ring ^= (shifted & self._RING) ^ (shifted >> QUICKXOR_WIDTH)
        out = bytearray(ring.to_bytes(QUICKXOR_WIDTH // 8, "little"))
        for i, byte in enumerate(self._length.to_bytes(8, "little")):
            out[QUICKXOR_WIDTH // 8 - 8 + i] ^= byte
        return bytes(out)

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


def file_hashes(path: Path, *kinds: str) -> dict[str, str]:
    """Hashes of a file by kind: ``sha256``, ``sha1``, ``md5`` (hex), ``dropbox`` (hex: SHA-256
    over the SHA-256 of each 4 MiB block),
    ``quickxor`` (base64, as Graph reports it)."""
    unknown = set(kinds) - {"sha256", "sha1", "md5", "dropbox", "quickxor"}
    if unknown:
        raise ValueError(f"unknown hash kinds: {sorted(unknown)}")
    plain = {kind: hashlib.new(kind) for kind in kinds if kind in ("sha256", "sha1", "md5")}
    block_hashes: list[bytes] = []
    quickxor = QuickXorHash() if "quickxor" in kinds else None
    with open(path, "rb") as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            for hasher in plain.values():
                hasher.update(block)
            if "dropbox" in kinds:
                block_hashes.append(hashlib.sha256(block).digest())
            if quickxor is not None:
                quickxor.update(block)
    result = {kind: hasher.hexdigest() for kind, hasher in plain.items()}
    if "dropbox" in kinds:
        result["dropbox"] = hashlib.sha256(b"".join(block_hashes)).hexdigest()
    if quickxor is not None:
        result["quickxor"] = quickxor.b64digest()
    return result
