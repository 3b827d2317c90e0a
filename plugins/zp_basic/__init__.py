"""Built-in basics: the serial executor and the patience stopping rule."""
