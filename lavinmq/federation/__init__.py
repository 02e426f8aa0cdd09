"""Federation: exchanges and queues that receive messages from upstream brokers, set up
with ``federation-upstream``/``federation-upstream-set`` parameters and policies, as
RabbitMQ's federation plugin and LavinMQ's federation.

Links run as tasks in the broker process and connect through :mod:`lavinmq.client`.
"""

from lavinmq.federation.exchange_link import ExchangeLink
from lavinmq.federation.queue_link import QueueLink
from lavinmq.federation.store import FederationStore
from lavinmq.federation.upstream import Upstream, UpstreamError

__all__ = ["ExchangeLink", "FederationStore", "QueueLink", "Upstream", "UpstreamError"]
