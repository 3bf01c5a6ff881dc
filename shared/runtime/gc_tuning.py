"""The cyclic garbage collector of a long-running service process.

CPython's defaults (a young collection every 700 container allocations; a full one when the objects promoted
since the last full collection reach a quarter of the old generation) were made for short scripts. In a service
the old generation is mostly what start-up built — modules, classes, functions, pydantic and SQLAlchemy
metadata, ~300,000 objects in the customer service — and every full collection walked all of it again, while
work in flight (an import's chunk, a consumer's batch) lived through a few young collections and was promoted,
which triggered the next full one. Measured in the customer service during a 100,000-row import: 86 full
collections of ~0.21 s each, 33% of the process's CPU, collecting next to nothing.

So, once a process has started (`serve`): what start-up built is collected once and then frozen (`gc.freeze`:
moved to a permanent generation that no collection walks; never freed, which is what it would have been), and
the young generation's threshold is raised (`gc_gen0_threshold`, default 10,000), so that short-lived work dies
young instead of being promoted. Reference counting frees everything that is not in a cycle either way; this
only changes how often cycles are looked for."""

from __future__ import annotations

import gc

from .logging import get_logger

log = get_logger("runtime.gc")


def tune(gen0_threshold: int, *, freeze: bool = True) -> int:
    """Raise the young generation's threshold (the older ones keep theirs) and, with `freeze`, collect what
    exists now and freeze it. Returns the number of frozen objects. Called once per process, after start-up."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    if freeze:
        gc.collect()
        gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("gc_tuned", gen0_threshold=gen0_threshold, frozen_objects=frozen)
    return frozen
