"""zp_evolve: Genetic Prompt Search and multitask prompted training (ZeroPrompt).

Importing this package is cheap: it does not import torch, transformers or ray.
"""

from __future__ import annotations

import pluggy

from zp_evolve.errors import ConfigError, DataError, ModelError, PluginError, ZpError

__version__ = "0.1.0"

#: Decorator for plugin hook implementations: ``@hookimpl def zp_register_mutators(register): ...``
hookimpl = pluggy.HookimplMarker("zp_evolve")

__all__ = ["ConfigError", "DataError", "ModelError", "PluginError", "ZpError", "hookimpl", "__version__"]
