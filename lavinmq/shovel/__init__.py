"""Dynamic shovels: move messages from a queue (or exchange) of one broker to an exchange,
a queue or an HTTP endpoint, as RabbitMQ's shovel plugin and LavinMQ's shovels.

They run as tasks in the broker process and connect through :mod:`lavinmq.client`, to
this broker too (``amqp://`` without a host). See :mod:`lavinmq.shovel.config` for the
parameter's keys.
"""

from lavinmq.shovel.config import ShovelConfig, ShovelConfigError
from lavinmq.shovel.runner import ShovelRunner
from lavinmq.shovel.store import ShovelStore

__all__ = ["ShovelConfig", "ShovelConfigError", "ShovelRunner", "ShovelStore"]
