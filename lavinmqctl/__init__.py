"""lavinmqctl: the admin CLI of LavinMQ, speaking the management HTTP API."""
