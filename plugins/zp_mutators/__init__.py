"""Built-in mutation operators (g_GPS)."""
