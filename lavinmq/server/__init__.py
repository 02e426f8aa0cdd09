"""asyncio glue: AMQP listeners and the per-connection protocol."""
