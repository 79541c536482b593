"""How much work a JSON body asks of the parser, counted as its bytes arrive.

A 10 MB body may hold five million tiny values: parsing and validating it holds the event loop
for seconds and the memory for gigabytes, although its bytes are within the body limit. The
shape is counted on the raw bytes, a slice at a time, with C-speed scans (strings blanked by
one regular expression, then byte counts), so no slice holds the interpreter for more than a
few milliseconds; a body over a limit is refused before anything parses it.

Counts (upper bounds for a valid document; an invalid one is left to the parser to refuse):
- containers: `[` and `{`;  keys: `:` outside strings;
- values: `,` outside strings, plus one per container (its first element), plus one;
- depth: the deepest nesting of containers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SLICE = 64 * 1024
# From the opening quote of a string to its closing quote, or to the end of the slice when
# the string goes on in the next one. Possessive: linear on any input (an escaped quote never
# makes the engine retry).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPENERS = frozenset(b"[{")


@dataclass(frozen=True)
class ShapeLimits:
    values: int
    keys: int
    containers: int
    depth: int


def json_shape_limits(settings: Any) -> ShapeLimits:
    return ShapeLimits(
        values=settings.max_json_values,
        keys=settings.max_json_keys,
        containers=settings.max_json_containers,
        depth=settings.max_json_depth,
    )


class ShapeExceeded(Exception):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"The JSON body has more than {limit} {what}.")
        self.what = what
        self.limit = limit


class ShapeCounter:
    """Feed the body's bytes in order; `feed` raises `ShapeExceeded` at the first slice that
    takes a count over its limit."""

    def __init__(self, limits: ShapeLimits) -> None:
        self.limits = limits
        self.values = 1
        self.keys = 0
        self.containers = 0
        self.closers = 0
        self.level = 0
        self.deepest = 0
        self._in_string = False
        self._escaped = False  # the last slice ended on a backslash inside a string

    def feed(self, data: bytes) -> None:
        for start in range(0, len(data), SLICE):
            self.feed_slice(data[start : start + SLICE])

    def feed_slice(self, data: bytes) -> None:
        """At most a few milliseconds of work for a slice of SLICE bytes."""
        position = self._finish_string(data)
        bare = _STRING.sub(self._note_string_end, data[position:])
        containers = bare.count(b"[") + bare.count(b"{")
        self.containers += containers
        self.closers += bare.count(b"]") + bare.count(b"}")
        self.values += bare.count(b",") + containers
        self.keys += bare.count(b":")
        self._check("values", self.values, self.limits.values)
        self._check("keys", self.keys, self.limits.keys)
        # A valid document closes what it opens: more closers than the limit of openers is
        # refused as such, so the walk below never visits more than twice the limit.
        self._check("containers", max(self.containers, self.closers), self.limits.containers)
        self._walk_brackets(bare)
        self._check("levels of nesting", self.deepest, self.limits.depth)

    def _finish_string(self, data: bytes) -> int:
        """Where this slice leaves the string the previous one ended in (0 if none)."""
        if not self._in_string:
            return 0
        skip = 1 if self._escaped else 0
        match = _STRING_REST.match(data, skip)
        assert match is not None  # the pattern matches the empty string at the end
        ended_early = match.end() < len(data)  # only a closing quote stops the match early
        self._set_string_state(match.group(), closed_at_end=ended_early or _closes(match.group()))
        return match.end()

    def _note_string_end(self, match: re.Match[bytes]) -> bytes:
        self._set_string_state(match.group()[1:], closed_at_end=_closes(match.group()[1:]))
        return b'""'

    def _set_string_state(self, content: bytes, *, closed_at_end: bool) -> None:
        self._in_string = not closed_at_end
        trailing = len(content) - len(content.rstrip(b"\\"))
        self._escaped = self._in_string and trailing % 2 == 1

    def _walk_brackets(self, bare: bytes) -> None:
        for byte in _NOT_BRACKET.sub(b"", bare):
            if byte in _OPENERS:
                self.level += 1
                self.deepest = max(self.deepest, self.level)
            else:
                self.level -= 1

    @staticmethod
    def _check(what: str, count: int, limit: int) -> None:
        if count > limit:
            raise ShapeExceeded(what, limit)


def _closes(content: bytes) -> bool:
    """Whether a string's matched text ends with its closing quote (not an escaped one)."""
    if not content.endswith(b'"'):
        return False
    before = content[:-1]
    return (len(before) - len(before.rstrip(b"\\"))) % 2 == 0
