"""The bundled multitask prompted trainer (ZeroPrompt sections 3.4, 4.1)."""
