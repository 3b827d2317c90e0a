"""A plugin package shipped to the actors through ``executor.runtime_env.py_modules``, as
a local folder: Ray takes local folders only for a whole job, so the executor uploads
them first (zp_ray.shipping). tests/ray/test_multinode.py does the same across nodes,
with a folder that only the driver can see."""

from __future__ import annotations

import pytest

from tests import toy_plugin
from tests.ray.conftest import make_search, plugin_package
from zp_evolve.errors import ConfigError
from zp_ray.shipping import upload_local_paths

PLUGIN = '''from zp_evolve import hookimpl


class ShippedFitness:
    def __init__(self, backend=None):
        pass

    def evaluate(self, jobs):
        import zp_shipped_plugin
        assert "runtime_resources" in zp_shipped_plugin.__file__ or __import__("os").getpid() == MAIN_PID
        return [len(j.prompt) / 100 for j in jobs]


MAIN_PID = None


@hookimpl
def zp_register_fitness(register):
    register("shipped_fitness", ShippedFitness)
'''


def test_local_py_modules_folder_reaches_the_actors(ray_session, tmp_path):
    with plugin_package(tmp_path / "shipped", "zp_shipped_plugin", PLUGIN) as (package, module):

        def edit(raw):
            raw["fitness"] = {"name": "shipped_fitness"}

        import os

        module.MAIN_PID = os.getpid()
        expected = make_search(tmp_path, "serial", {"name": "serial"}, extra=(toy_plugin, module), edit=edit).run()
        # The folder is on this machine, so the executor also puts it on the actors' PYTHONPATH;
        # Ray puts py_modules first, and the fitness checks that it runs from the uploaded copy.
        executor = {"name": "ray", "address": ray_session.address, "num_actors": 2,
                    "runtime_env": {"py_modules": [str(package)]}}
        on_ray = make_search(tmp_path, "ray", executor, extra=(toy_plugin, module), edit=edit).run()
    assert on_ray == expected


def test_a_missing_local_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        upload_local_paths({"py_modules": [str(tmp_path / "nowhere")]})
    assert upload_local_paths({"py_modules": ["gcs://_ray_pkg_x.zip"]}) == {"py_modules": ["gcs://_ray_pkg_x.zip"]}
