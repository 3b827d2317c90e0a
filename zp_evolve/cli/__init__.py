"""The ``zp-evolve`` command line."""
