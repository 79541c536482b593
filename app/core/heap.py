"""The garbage collector, set for a server that has finished starting (record 0029).

After start-up a worker holds some 240 000 objects that live as long as it does: modules,
routes, schemas, the OpenAPI document. CPython's cycle collector walked all of them on each
full collection (about 130 ms of a stalled event loop on this project's machine), and a
request's short-lived objects set off a young collection every 700 allocations. Under 32
concurrent lists a worker spent about a seventh of its time collecting, and the full
collections were most of the p99.

`settle` runs once per process, after the first application has started: it collects what
start-up left behind, moves every survivor to the permanent generation (`gc.freeze`: never
walked again, still freed by reference counting if released), and raises the thresholds so a
young collection comes every 20 000 allocations. Cycles are still found; a little later.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)

_settled = False


def settle() -> None:
    global _settled
    if _settled:  # a later application in the same process (tests) keeps the first's state
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _settled = True
