"""The one exception type of fsr.metrics (kept free of heavy imports)."""


class MetricError(ValueError):
    """Bad input to a metric, an unknown metric name, or a metric that cannot be built."""
