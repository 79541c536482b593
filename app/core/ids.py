"""Prefixed ULIDs: `out_01J...`, 30 characters of `[A-Za-z0-9_]`, sortable by creation time.

A ULID is 48 bits of milliseconds since the epoch and 80 random bits, written in Crockford
base32. Within one millisecond the random part is incremented, so ids created by one process
stay strictly ordered (monotonic ULID).
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from typing import Final

CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES: Final = frozenset(
    {
        "out",
        "sla",
        "dsp",
        "pay",
        "pbt",
        "usr",
        "org",
        "whk",
        "dlv",
        "evt",
        "job",
        "flt",
        "inc",
        "inv",
        "key",
        "aud",
        "idm",
        "rtk",
        "pol",
        "att",
        "tml",
        "cmt",
        "tok",
        "prt",
        "anc",
        "wal",
        "rca",
        "wat",
        "fst",
        "frl",
        "use",
        "ovr",
        "mnt",
        "pse",
        "cpy",
        "ctr",
        "stm",
        "rcn",
        "imp",
    }
)
_ID_RE: Final = re.compile(r"^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$")

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


# Crockford base32 of the 128 bits, through RFC 4648 base32 (in C) with the alphabet swapped:
# widened to 160 bits (32 characters), the last 26 characters are the ULID's (its first
# character carries the 2 padding bits and the top 3 bits of the time).
_TO_CROCKFORD: Final = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD.encode())


def _encode_ulid(value: int) -> str:
    return base64.b32encode(value.to_bytes(20, "big"))[6:].translate(_TO_CROCKFORD).decode()


def ulid() -> str:
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_random = (_last_random + 1) & ((1 << 80) - 1)
        else:
            _last_ms = now_ms
            _last_random = int.from_bytes(os.urandom(10), "big")
        return _encode_ulid((now_ms << 80) | _last_random)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ulid()}"


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    if not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
