"""The ``ndpath`` command line, on top of the ``model`` and ``calibration`` packages.

``ndpath COMMAND ...`` (the console script) and ``python -m ndpath COMMAND ...`` run
:func:`ndpath.cli.main`. Nothing here is imported by ``model`` or ``calibration``.
"""
