"""lavinmq-tui: a terminal dashboard of a LavinMQ broker, over its management HTTP API."""
