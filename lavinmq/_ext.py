"""Whether to use the compiled fast paths (``LAVINMQ_NO_EXTENSIONS=1`` forces pure Python).

Every compiled module has a pure-Python twin that defines the behaviour; CI runs the
suite both ways.
"""

from __future__ import annotations

import os

NO_EXTENSIONS = bool(os.environ.get("LAVINMQ_NO_EXTENSIONS"))
