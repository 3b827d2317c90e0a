"""The Ray executor: fitness evaluation on a local Ray or an existing cluster."""
