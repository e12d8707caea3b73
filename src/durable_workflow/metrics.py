"""Metrics recorders for the client and the worker.

Any object with ``increment(name, value=1.0, tags=None)`` and ``record(name, value, tags=None)``
is a recorder. The SDK ships three:

* :class:`NoopMetrics` — the default; costs nothing;
* :class:`InMemoryMetrics` — keeps everything in dictionaries, for tests and custom exporters;
* :class:`PrometheusMetrics` — forwards to ``prometheus_client`` (optional dependency, imported
  only when this recorder is created: ``pip install 'durable-workflow[prometheus]'``).

Counters go through ``increment`` and histograms through ``record``. Tag values are strings.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CLIENT_REQUESTS",
    "CLIENT_REQUEST_DURATION_SECONDS",
    "METRIC_NAMES",
    "WORKER_POLLS",
    "WORKER_POLL_DURATION_SECONDS",
    "WORKER_TASKS",
    "WORKER_TASK_DURATION_SECONDS",
    "InMemoryMetrics",
    "MetricsRecorder",
    "NoopMetrics",
    "PrometheusMetrics",
]

# Counter; tags: method, route, plane, status_code, outcome
CLIENT_REQUESTS = "durable_workflow_client_requests"
# Histogram; tags: method, route, plane, status_code, outcome
CLIENT_REQUEST_DURATION_SECONDS = "durable_workflow_client_request_duration_seconds"
# Counter; tags: task_kind, task_queue, outcome
WORKER_POLLS = "durable_workflow_worker_polls"
# Histogram; tags: task_kind, task_queue, outcome
WORKER_POLL_DURATION_SECONDS = "durable_workflow_worker_poll_duration_seconds"
# Counter; tags: task_kind, task_queue, outcome
WORKER_TASKS = "durable_workflow_worker_tasks"
# Histogram; tags: task_kind, task_queue, outcome
WORKER_TASK_DURATION_SECONDS = "durable_workflow_worker_task_duration_seconds"

METRIC_NAMES = (
    CLIENT_REQUESTS,
    CLIENT_REQUEST_DURATION_SECONDS,
    WORKER_POLLS,
    WORKER_POLL_DURATION_SECONDS,
    WORKER_TASKS,
    WORKER_TASK_DURATION_SECONDS,
)

# The documented tag set of each metric; PrometheusMetrics needs label names up front.
_DOCUMENTED_TAGS: dict[str, tuple[str, ...]] = {
    CLIENT_REQUESTS: ("method", "route", "plane", "status_code", "outcome"),
    CLIENT_REQUEST_DURATION_SECONDS: ("method", "route", "plane", "status_code", "outcome"),
    WORKER_POLLS: ("task_kind", "task_queue", "outcome"),
    WORKER_POLL_DURATION_SECONDS: ("task_kind", "task_queue", "outcome"),
    WORKER_TASKS: ("task_kind", "task_queue", "outcome"),
    WORKER_TASK_DURATION_SECONDS: ("task_kind", "task_queue", "outcome"),
}

TagKey = tuple[tuple[str, str], ...]


@runtime_checkable
class MetricsRecorder(Protocol):
    """What the client and the worker need from a metrics backend."""

    def increment(self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None) -> None:
        """Add ``value`` to the counter ``name`` for this tag combination."""

    def record(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Observe ``value`` in the histogram ``name`` for this tag combination."""


class NoopMetrics:
    """Discards everything. The default recorder."""

    def increment(self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None) -> None:
        """Do nothing."""

    def record(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Do nothing."""


def _tag_key(tags: Mapping[str, str] | None) -> TagKey:
    return tuple(sorted((str(k), str(v)) for k, v in (tags or {}).items()))


def _matches(key: TagKey, wanted: Mapping[str, str] | None) -> bool:
    if not wanted:
        return True
    have = dict(key)
    return all(have.get(k) == str(v) for k, v in wanted.items())


class InMemoryMetrics:
    """Keeps counters and histogram observations in memory (thread-safe).

    ``counters`` maps ``(name, tags)`` to a running total and ``histograms`` maps ``(name, tags)``
    to the list of observed values, where ``tags`` is a sorted tuple of ``(key, value)`` pairs.
    The query helpers accept a partial tag mapping and sum/collect over every match.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, TagKey], float] = {}
        self.histograms: dict[tuple[str, TagKey], list[float]] = {}

    def increment(self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None) -> None:
        """Add ``value`` to the counter ``name`` for these tags."""
        key = (name, _tag_key(tags))
        with self._lock:
            self.counters[key] = self.counters.get(key, 0.0) + value

    def record(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Append ``value`` to the histogram ``name`` for these tags."""
        key = (name, _tag_key(tags))
        with self._lock:
            self.histograms.setdefault(key, []).append(value)

    def counter(self, name: str, tags: Mapping[str, str] | None = None) -> float:
        """Sum of counter ``name`` over every tag combination that contains ``tags``."""
        with self._lock:
            return sum(v for (n, key), v in self.counters.items() if n == name and _matches(key, tags))

    def observations(self, name: str, tags: Mapping[str, str] | None = None) -> list[float]:
        """Every value observed in histogram ``name`` under tag combinations containing ``tags``."""
        with self._lock:
            out: list[float] = []
            for (n, key), values in self.histograms.items():
                if n == name and _matches(key, tags):
                    out.extend(values)
            return out

    def tag_sets(self, name: str) -> list[dict[str, str]]:
        """The distinct tag combinations seen for ``name`` (counters and histograms)."""
        with self._lock:
            keys = {key for (n, key) in self.counters if n == name}
            keys |= {key for (n, key) in self.histograms if n == name}
        return [dict(k) for k in sorted(keys)]

    def reset(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self.counters.clear()
            self.histograms.clear()


_SHARED_LOCK = threading.Lock()
_SHARED_COLLECTORS: weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, tuple[str, ...]]]] = (
    weakref.WeakKeyDictionary()
)


class PrometheusMetrics:
    """Forwards to ``prometheus_client`` counters and histograms.

    Args:
        registry: The ``CollectorRegistry`` to register in; ``prometheus_client.REGISTRY`` when
            omitted. Use a private registry in tests so metric names do not collide.
        buckets: Histogram buckets; ``prometheus_client`` defaults when omitted.

    Label names are the documented tags of each SDK metric; for other metric names they are the
    tag keys of the first observation. Missing tags are exported as ``""``, unknown ones dropped,
    because Prometheus requires a fixed label set per metric.

    Raises:
        ImportError: ``prometheus_client`` is not installed.
    """

    def __init__(self, registry: Any = None, buckets: tuple[float, ...] | None = None) -> None:
        try:
            import prometheus_client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "PrometheusMetrics needs prometheus_client: pip install 'durable-workflow[prometheus]'"
            ) from exc
        self._prom = prometheus_client
        self._registry = registry if registry is not None else prometheus_client.REGISTRY
        self._buckets = buckets
        self._lock = _SHARED_LOCK
        # Collectors are shared per registry: a registry refuses a second collector of the same
        # name, and a process commonly builds several clients (each with its own recorder).
        self._metrics = _SHARED_COLLECTORS.setdefault(self._registry, {})

    def _get(self, kind: str, name: str, tags: Mapping[str, str] | None) -> tuple[Any, tuple[str, ...]]:
        with self._lock:
            found = self._metrics.get(name)
            if found is not None and found[0].__class__.__name__.lower() != kind:
                # One name is one Prometheus metric of one type: a counter cannot also observe.
                raise TypeError(f"metric {name!r} is a {found[0].__class__.__name__.lower()}, not a {kind}")
            if found is None:
                labels = _DOCUMENTED_TAGS.get(name) or tuple(sorted(tags or {}))
                doc = f"durable-workflow SDK metric {name}"
                metric: Any
                if kind == "counter":
                    metric = self._prom.Counter(name, doc, labels, registry=self._registry)
                else:
                    extra: dict[str, Any] = {"buckets": self._buckets} if self._buckets else {}
                    metric = self._prom.Histogram(name, doc, labels, registry=self._registry, **extra)
                found = (metric, labels)
                self._metrics[name] = found
            return found

    @staticmethod
    def _labelled(metric: Any, labels: tuple[str, ...], tags: Mapping[str, str] | None) -> Any:
        if not labels:
            return metric
        tags = tags or {}
        return metric.labels(**{label: str(tags.get(label, "")) for label in labels})

    def increment(self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None) -> None:
        """Increment the Prometheus counter ``name`` (exported with the ``_total`` suffix)."""
        metric, labels = self._get("counter", name, tags)
        self._labelled(metric, labels, tags).inc(value)

    def record(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Observe ``value`` in the Prometheus histogram ``name``."""
        metric, labels = self._get("histogram", name, tags)
        self._labelled(metric, labels, tags).observe(value)
