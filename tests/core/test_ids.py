import re

import pytest

from app.core.ids import is_valid_id, new_id


def test_ids_are_prefixed_30_chars_and_soroban_symbol_safe() -> None:
    for prefix in (
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
    ):
        value = new_id(prefix)
        assert len(value) == 30
        assert value.startswith(prefix + "_")
        assert re.fullmatch(r"[A-Za-z0-9_]+", value)
        assert is_valid_id(value, prefix)


def test_ids_sort_in_creation_order_and_never_repeat() -> None:
    ids = [new_id("out") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        new_id("bad")
    assert not is_valid_id("out_not-a-ulid")


def test_the_encoding_is_crockford_base32_of_time_then_randomness() -> None:
    from app.core.ids import _encode_ulid

    # 48 bits of milliseconds (10 characters), then 80 random bits (16 characters).
    assert _encode_ulid(1 << 80) == "0000000001" + "0" * 16
    assert _encode_ulid((31 << 80) | 1) == "000000000Z" + "0" * 15 + "1"
    assert _encode_ulid((1 << 128) - 1) == "7" + "Z" * 25
