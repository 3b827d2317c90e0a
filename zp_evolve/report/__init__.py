"""Reports: Markdown tables and PNG plots of runs."""
