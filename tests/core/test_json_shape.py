"""A JSON body's shape is bounded before anything parses it (issue 24.4): counted on the raw
bytes as they arrive, whatever the slicing, and refused with 413 past its limits."""

import json
import random
from typing import Any

import pytest

from app.core.json_shape import ShapeCounter, ShapeExceeded, ShapeLimits
from tests.helpers import Api, assert_error

UNBOUNDED = ShapeLimits(10**9, 10**9, 10**9, 10**9)
TRICKY = ["a", ",", ":", "[", "{", '"', "\\", "é", "}", "]", " ", "\\u0022"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 6)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.random()
    if depth > 4 or kind < 0.3:
        return rng.choice([1, None, True, 2.5, _text(rng)])
    if kind < 0.65:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _truth(value: Any, depth: int = 1) -> tuple[int, int, int, int]:
    """(keys, containers, depth, elements) as a parser sees them."""
    children: list[Any] = []
    if isinstance(value, list):
        children = value
    elif isinstance(value, dict):
        children = list(value.values())
    else:
        return 0, 0, depth - 1, 0
    counts = [_truth(child, depth + 1) for child in children]
    keys = (len(value) if isinstance(value, dict) else 0) + sum(c[0] for c in counts)
    containers = 1 + sum(c[1] for c in counts)
    deepest = max([depth, *(c[2] for c in counts)])
    elements = len(children) + sum(c[3] for c in counts)
    return keys, containers, deepest, elements


@pytest.mark.parametrize("seed", range(4))
def test_counts_match_the_parser_whatever_the_slicing(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        value = _value(rng)
        body = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
        counter = ShapeCounter(UNBOUNDED)
        position = 0
        while position < len(body):  # slices that cut strings and escapes anywhere
            size = rng.randint(1, 7)
            counter.feed(body[position : position + size])
            position += size
        keys, containers, deepest, elements = _truth(value)
        assert (counter.keys, counter.containers, counter.deepest) == (keys, containers, deepest)
        assert elements <= counter.values <= elements + containers + 1, body


def test_escaped_quotes_do_not_hide_structure() -> None:
    counter = ShapeCounter(UNBOUNDED)
    counter.feed(b'["a\\"", "b\\\\", [1, 2], {"k\\"": "v"}]')
    assert (counter.containers, counter.keys, counter.deepest) == (3, 1, 2)


def test_each_limit_is_named_when_passed() -> None:
    for limits, body, said in (
        (ShapeLimits(10, 99, 99, 99), b"[" + b"1," * 20 + b"1]", "more than 10 values"),
        (ShapeLimits(99, 3, 99, 99), b'{"a":1,"b":2,"c":3,"d":4}', "more than 3 keys"),
        (ShapeLimits(99, 99, 4, 99), b"[[],[],[],[],[]]", "more than 4 containers"),
        (ShapeLimits(99, 99, 99, 2), b"[[[1]]]", "more than 2 levels of nesting"),
        (ShapeLimits(99, 99, 4, 99), b"]]]]]]]]]]", "more than 4 containers"),
    ):
        with pytest.raises(ShapeExceeded, match=said):
            ShapeCounter(limits).feed(body)


async def test_a_batch_of_millions_of_tiny_values_is_413_before_parsing(api: Api) -> None:
    owner = await api.owner()
    body = b'{"faults": [' + b"0," * 3_000_000 + b"0]}"
    response = await api.post(
        "/faults/batch", owner, content=body, headers={"Content-Type": "application/json"}
    )
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["message"] == "The JSON body has more than 150000 values."


async def test_deep_nesting_and_undeclared_json_are_bounded_too(api: Api) -> None:
    owner = await api.owner()
    deep = b"[" * 100 + b"]" * 100
    response = await api.post(
        "/outages", owner, content=deep, headers={"Content-Type": "application/json"}
    )
    assert assert_error(response, 413, "PAYLOAD_TOO_LARGE")["message"] == (
        "The JSON body has more than 32 levels of nesting."
    )
    keys = b"{" + b",".join(b'"k%d":0' % n for n in range(30_000)) + b"}"
    response = await api.post("/outages", owner, content=keys, headers={"Content-Type": ""})
    assert assert_error(response, 413, "PAYLOAD_TOO_LARGE")["message"] == (
        "The JSON body has more than 20000 keys."
    )
