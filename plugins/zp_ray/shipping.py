"""Local folders in an actor's ``runtime_env`` (``py_modules``, ``working_dir``), uploaded.

Ray uploads local paths only for a whole job (``ray.init(runtime_env=...)``). Given to a
single actor, as the executor does, Ray refuses them: "Passing directories or modules to
be dynamically uploaded is only supported at the job level". So the executor uploads
them first, as ``ray.init`` would, into the cluster's storage, and gives the actors the
``gcs://`` URIs: every node then fetches the package, whether or not it has the folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any, Mapping

from zp_evolve.errors import ConfigError

log = logging.getLogger(__name__)


def _local(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and "://" not in str(value)


def upload_local_paths(runtime_env: Mapping[str, Any]) -> dict[str, Any]:
    """``runtime_env`` with its local ``py_modules`` and ``working_dir`` uploaded to the
    connected cluster and replaced by their URIs (needs a Ray connection)."""
    env = dict(runtime_env)
    modules = env.get("py_modules") or []
    local_modules = [m for m in modules if _local(m)]
    local_dir = _local(env.get("working_dir"))
    if not local_modules and not local_dir:
        return env
    for path in [*local_modules, *([env["working_dir"]] if local_dir else [])]:
        if not os.path.exists(path):
            raise ConfigError(f"executor.runtime_env names {str(path)!r}, which does not exist on this machine")
    from ray._private.runtime_env.py_modules import upload_py_modules_if_needed
    from ray._private.runtime_env.working_dir import upload_working_dir_if_needed

    env["py_modules"] = [os.path.abspath(m) if _local(m) else m for m in modules] or None
    if env["py_modules"] is None:
        env.pop("py_modules")
    scratch = tempfile.mkdtemp(prefix="zp_ray_upload")  # the zips are built here, then stored in the cluster
    try:
        env = upload_py_modules_if_needed(env, include_gitignore=True, scratch_dir=scratch, logger=log)
        env = upload_working_dir_if_needed(env, include_gitignore=True, scratch_dir=scratch, logger=log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    env.pop("excludes", None)  # applied by the upload; actors do not take it
    log.info("ray executor: uploaded runtime_env packages %s", env.get("py_modules") or env.get("working_dir"))
    return env
