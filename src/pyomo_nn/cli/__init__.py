"""The ``pyomo-nn`` command line: one module per subcommand, registered in ``main``."""
