"""Built-in task providers: packaged, bigbench and files."""
