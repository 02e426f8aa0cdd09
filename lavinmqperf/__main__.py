"""``python -m lavinmqperf``."""

from lavinmqperf.app import main

main()
