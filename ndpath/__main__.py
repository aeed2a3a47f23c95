"""``python -m ndpath COMMAND ...``: the same command line as the ``ndpath`` script."""

import sys

from ndpath.cli import main

sys.exit(main())
