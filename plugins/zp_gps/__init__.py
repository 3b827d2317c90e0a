"""Genetic Prompt Search (paper Algorithm 1) on DEAP: the ``gps`` job, its engine, reports,
the serial executor, the ``length`` objective and the ``patience`` stopping rule."""
