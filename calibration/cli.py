"""Compatibility: the calibration commands moved to :mod:`ndpath.calibration_commands`.

``python -m calibration.cli ...`` runs the whole ``ndpath`` command line, as before.
"""

from ndpath.calibration_commands import *  # noqa: F401,F403
from ndpath.calibration_commands import add_subcommands  # noqa: F401

if __name__ == "__main__":
    import sys

    from ndpath.cli import main

    sys.exit(main())
