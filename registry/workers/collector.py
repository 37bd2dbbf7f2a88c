"""The garbage collector set up for a long-running server: start-up objects frozen, every pause measured.

A full collection walks every object the collector tracks. Most of a server's objects are made at start-up and
live as long as it does (modules, the app and its routes, templates, schemas); after start-up they are moved to
the permanent generation (`gc.freeze`), so no collection walks them again and full collections stay short.
Each collection is timed through `gc.callbacks` and exported on `/metrics` as `registry_gc_pause_seconds`
(a histogram per generation) and `registry_gc_pause_max_seconds`, so the bound is watched, not assumed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

__all__ = ["PAUSES", "THRESHOLDS", "PauseClock", "freeze_after_start", "install"]

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# Young collections every 10,000 net allocations instead of 700: a search allocates thousands of objects
# that die with its request, so most are gone before a collection would look at them (a tenth of the
# collections at 10k assets, and full ones became rare enough not to show in a 20 s benchmark).
THRESHOLDS = (10_000, 10, 10)


class PauseClock(Collector):
    """Times each collection; the callback only updates numbers (it runs inside the collector, where taking a
    lock that the interrupted code may hold would deadlock)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget what was measured (start-up's collections are not pauses while serving)."""
        self.counts = [[0] * (len(BUCKETS) + 1) for _ in range(3)]  # per generation, per bucket (+Inf last)
        self.sums = [0.0, 0.0, 0.0]
        self.longest = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = int(info.get("generation", 2))
        bucket = next((i for i, bound in enumerate(BUCKETS) if pause <= bound), len(BUCKETS))
        self.counts[generation][bucket] += 1
        self.sums[generation] += pause
        self.longest = max(self.longest, pause)

    def collect(self) -> Iterator[HistogramMetricFamily | GaugeMetricFamily]:
        histogram = HistogramMetricFamily(
            "registry_gc_pause_seconds", "Garbage collector pauses by generation", labels=["generation"]
        )
        for generation in range(3):
            cumulative, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), self.counts[generation], strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
            histogram.add_metric([str(generation)], buckets, self.sums[generation])
        yield histogram
        yield GaugeMetricFamily("registry_gc_pause_max_seconds", "The longest collector pause", value=self.longest)


PAUSES = PauseClock()


def install() -> None:
    """Start timing collections in this process and export them (once; later calls do nothing)."""
    if PAUSES not in gc.callbacks:
        gc.callbacks.append(PAUSES)
        REGISTRY.register(PAUSES)


def freeze_after_start() -> None:
    """Collect what start-up left behind, move every surviving object out of the collector's sight, and set
    the thresholds for serving.

    Start-up's collections (this deliberate one included) walk everything start-up made, tens of
    milliseconds each; they are not pauses while serving, so the measurement starts afresh here."""
    timed = PAUSES in gc.callbacks
    if timed:
        gc.callbacks.remove(PAUSES)
    try:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)
        PAUSES.reset()
    finally:
        if timed:
            gc.callbacks.append(PAUSES)
