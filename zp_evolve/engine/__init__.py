"""The Genetic Prompt Search engine (paper Algorithm 1) on DEAP."""
