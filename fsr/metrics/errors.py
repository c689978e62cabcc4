"""The exception types of fsr.metrics (kept free of heavy imports)."""


class MetricError(ValueError):
    """Bad input to a metric, an unknown metric name, or a metric that cannot be built."""


class MetricUnavailable(MetricError):
    """A metric that cannot be built on this install: its weights are absent, or its engine
    (pyiqa) is not installed. The message is one line naming the missing file or package and
    how to add it; a benchmark drops the metric with that line and goes on."""
