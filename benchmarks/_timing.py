"""The one timing harness every benchmark uses.

A benchmark times each contender with :func:`measure` (warm-up calls first, then
``repeats`` timed calls, interleaved across contenders by :func:`race` so that a
noisy neighbour slows all of them alike), then prints one row per contender with
:func:`report`: median and minimum time, the ratio to a reference, and whether the
goal the issue set is met.

    >>> import time
    >>> t = measure(lambda: sum(range(1000)), repeats=3, warmup=1)
    >>> t.median >= t.min > 0
    True
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional


@dataclass
class Timing:
    """Seconds per call over the timed repeats (warm-up calls excluded)."""

    times: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)


def _time_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls (JIT, caches, allocator), then ``repeats`` timed ones."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        fn()
    return Timing([_time_once(fn) for _ in range(repeats)])


def race(contenders: Mapping[str, Callable[[], object]], repeats: int = 5,
         warmup: int = 1) -> Dict[str, Timing]:
    """Time several contenders interleaved: round r calls each of them once, in turn."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    out = {name: Timing() for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            out[name].times.append(_time_once(fn))
    return out


def ratio(ours: Timing, reference: Timing) -> float:
    """How many times faster ours is than the reference (> 1 means faster), on medians."""
    return reference.median / ours.median


def report(title: str, timings: Mapping[str, Timing], ours: str, reference: str,
           goal: Optional[float] = None, unit: str = "ms", work: Optional[float] = None,
           work_unit: str = "") -> bool:
    """Print a table of the timings and the ratio ``reference / ours``; return whether the goal is met.

    ``goal`` is the least acceptable ratio (1.0: at least as fast as the reference;
    0.77: within 1.3x of it). ``work``, when given, adds a throughput column
    (work per second, e.g. walk steps).
    """
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    print(f"-- {title}")
    for name, t in timings.items():
        rate = f"  {work / t.median:12.4g} {work_unit}/s" if work else ""
        print(f"   {name:<28} median {t.median * scale:10.3f} {unit}   min {t.min * scale:10.3f} {unit}{rate}")
    r = ratio(timings[ours], timings[reference])
    ok = goal is None or r >= goal
    verdict = "" if goal is None else (f"   goal >= {goal:.2f}: " + ("met" if ok else "NOT met"))
    print(f"   {reference} / {ours} = {r:.2f}x{verdict}")
    return ok
