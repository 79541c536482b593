"""Prefixed ULIDs: `out_01J...`, 30 characters of `[A-Za-z0-9_]`, sortable by creation time.

A ULID is 48 bits of milliseconds since the epoch and 80 random bits, written in Crockford
base32. Within one millisecond the random part is incremented, so ids created by one process
stay strictly ordered (monotonic ULID).
"""

from __future__ import annotations

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
    }
)
_ID_RE: Final = re.compile(r"^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$")

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(CROCKFORD[rem])
    return "".join(reversed(chars))


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
        return _encode(now_ms, 10) + _encode(_last_random, 16)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ulid()}"


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    if not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
