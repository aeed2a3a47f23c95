"""Compatibility: the command line moved to :mod:`ndpath.cli` (``python -m ndpath``).

``python -m model.cli ...`` and ``from model.cli import main`` keep working; new code should use
``ndpath.cli``. The engine does not import this module.
"""

from ndpath.cli import *  # noqa: F401,F403
from ndpath.cli import (UserError, clearance_summary, main, summary_table,  # noqa: F401
                        write_sanity)

if __name__ == "__main__":
    import sys

    sys.exit(main())
