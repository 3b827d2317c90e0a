"""Built-in metrics (paper appendix A.2)."""
