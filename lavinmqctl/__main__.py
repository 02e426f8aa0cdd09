"""``python -m lavinmqctl``."""

from lavinmqctl.app import main

main()
