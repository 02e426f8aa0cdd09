"""Build the optional compiled fast paths (Cython). Metadata lives in pyproject.toml.

The extensions are optional: without a compiler, or with LAVINMQ_NO_EXTENSIONS=1 at
build time, the package installs as pure Python and uses the twin implementations.
"""

import os

from setuptools import Extension, setup

extensions = []
if not os.environ.get("LAVINMQ_NO_EXTENSIONS"):
    from Cython.Build import cythonize

    extensions = cythonize(
        [
            Extension("lavinmq.amqp._cparse", ["lavinmq/amqp/_cparse.pyx"], optional=True),
            Extension("lavinmq.broker._cmessage", ["lavinmq/broker/_cmessage.pyx"], optional=True),
            Extension("lavinmq.server._cread", ["lavinmq/server/_cread.pyx"], optional=True),
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )

setup(ext_modules=extensions)
