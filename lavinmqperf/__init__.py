"""lavinmqperf: load generator and benchmark tool for AMQP 0-9-1 brokers.

A port of LavinMQ's ``lavinmqperf`` on :mod:`lavinmq.client`: the same scenarios, options,
output lines and JSON keys, with publishers and consumers spread over worker processes.
"""

__version__ = "0.1.0"
