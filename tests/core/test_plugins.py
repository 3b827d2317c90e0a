"""The plugin system: registries, kwargs checks, listings, third-party packages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env
from zp_evolve import hookimpl
from zp_evolve.errors import ConfigError, PluginError
from zp_evolve.plugins import load_plugins


class _Mutator:
    def __init__(self, spans: int = 1, temperature: float = 1.0) -> None:
        self.spans = spans

    def mutate(self, parents, *, rng):
        return [[p] for p in parents]


class _PluginA:
    @hookimpl
    def zp_register_mutators(self, register):
        register("dup", _Mutator)


class _PluginB:
    @hookimpl
    def zp_register_mutators(self, register):
        register("dup", _Mutator)


def test_duplicate_names_name_both_plugins():
    with pytest.raises(PluginError) as error:
        load_plugins([_PluginA(), _PluginB()])
    assert "'dup' is registered twice" in str(error.value)
    assert "_PluginA" in str(error.value) and "_PluginB" in str(error.value)


class _AnyOptions:
    def __init__(self, **options) -> None:
        self.options = options


class _PluginWithKwargs:
    @hookimpl
    def zp_register_mutators(self, register):
        register("anything_goes", _AnyOptions)


def test_a_factory_taking_kwargs_is_refused_at_registration():
    with pytest.raises(PluginError, match=r"'anything_goes' with a factory that takes \*\*kwargs: list its options"):
        load_plugins([_PluginWithKwargs()])


def test_registration_options_are_those_of_the_kinds_register_protocol():
    from zp_evolve.hookspecs import registration_options

    class Misspelt:
        @hookimpl
        def zp_register_mutators(self, register):
            register("typo", _Mutator, descripton="a misspelt option")

    with pytest.raises(PluginError) as error:
        load_plugins([Misspelt()])
    assert "registered mutators 'typo' with unknown option(s) ['descripton']; mutators take: description, check_task" in str(error.value)
    assert registration_options("commands") == ("add_arguments", "help")
    assert registration_options("fitness") == ("description", "needs_model", "task_metric", "check_task", "default")


def test_defaults_come_from_the_plugins_that_own_them(tmp_path):
    import yaml

    from zp_gps.config import validate

    plugins = load_plugins()
    assert (plugins["fitness"].default_name(), plugins["executors"].default_name(), plugins["tasks"].default_name()) == (
        "dev_metric", "serial", "packaged")
    data = yaml.safe_load((REPO / "experiments" / "quickstart.yaml").read_text(encoding="utf-8"))
    for key in ("fitness", "executor"):
        data.pop(key, None)
    data["tasks"].pop("providers", None)
    config = validate(data, plugins, check_tasks=False)
    assert config.fitness == {"name": "dev_metric"} and config.executor == {"name": "serial"}
    assert config.tasks.providers == [{"name": "packaged"}]

    class SecondDefault:
        @hookimpl
        def zp_register_executors(self, register):
            register("mine", _Mutator, default=True)

    with pytest.raises(PluginError, match="several executors claim to be the default: 'mine'"):
        validate({k: v for k, v in data.items() if k != "executor"}, load_plugins([SecondDefault()]), check_tasks=False)


def test_fitness_gets_the_metrics_of_the_runs_own_plugins():
    """A metric from an extra plugin reaches dev_metric through the registry it is built with."""

    class ExtraMetric:
        @hookimpl
        def zp_register_metrics(self, register):
            register("always_half", lambda predictions, references: 0.5)

    plugins = load_plugins([ExtraMetric()])
    fitness = plugins.build("fitness", {"name": "dev_metric", "metric": "always_half"}, backend=object())
    assert fitness.metrics is plugins["metrics"] and "always_half" in fitness.metrics
    with pytest.raises(PluginError, match="unknown metric 'always_half'"):
        load_plugins().build("fitness", {"name": "dev_metric", "metric": "always_half"}, backend=object())


def test_build_checks_kwargs_against_the_signature():
    plugins = load_plugins([_PluginA()])
    built = plugins.build("mutators", {"name": "dup", "spans": 3})
    assert built.spans == 3
    with pytest.raises(ConfigError) as error:
        plugins.build("mutators", {"name": "dup", "spanz": 3, "temperature": "hot"}, path="mutators.0")
    text = str(error.value)
    assert "mutators.0.spanz: unknown option 'spanz' for mutator 'dup'. Accepted: spans: int = 1, temperature: float = 1.0" in text
    assert "mutators.0.temperature:" in text and "'hot'" in text


def test_misspelt_hook_is_caught():
    class Misspelt:
        @hookimpl
        def zp_register_mutator(self, register):  # missing "s"
            pass

    with pytest.raises(PluginError, match="zp_register_mutator"):
        load_plugins([Misspelt()])


def test_plugins_listing_json_names_plugin_and_parameters(cli):
    result = cli("plugins", "--json", plugins="tests.toy_plugin")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    serial = next(c for c in listing["executors"] if c["name"] == "serial")
    assert serial["plugin"] == "zp_gps"
    assert serial["parameters"] == [{"name": "batch_size", "type": "int", "required": False, "default": "64"}]
    append = next(c for c in listing["mutators"] if c["name"] == "append_word")
    assert append["plugin"] == "tests.toy_plugin"
    text = cli("plugins", plugins="tests.toy_plugin")
    assert "append_word" in text.stdout and "[tests.toy_plugin]" in text.stdout


def test_importing_zp_evolve_stays_light():
    code = (
        "import sys, zp_evolve, zp_evolve.plugins, zp_gps.search, zp_evolve.cli.main, zp_evolve.config;"
        "zp_evolve.plugins.load_plugins();"
        "print(sorted(m for m in ('torch', 'transformers', 'ray') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_third_party_plugin_package_works_after_pip_install(tmp_path):
    """pip-install the example package (a real build and install) and use it end to end."""
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(target),
         str(REPO / "examples" / "third_party_plugin")],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr
    env = cli_env()
    env["PYTHONPATH"] = f"{target}:{env['PYTHONPATH']}"
    listing = subprocess.run([sys.executable, "-m", "zp_evolve.cli.main", "plugins", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    swap = next(c for c in data["mutators"] if c["name"] == "synonym_swap")
    assert swap["plugin"] == "zp_synonyms"
    assert any(c["name"] == "exact_match_ci" and c["plugin"] == "zp_synonyms" for c in data["metrics"])

    import yaml

    from tests import toy_plugin

    raw = toy_plugin.toy_config(tmp_path, generations=2)
    raw["mutators"] = [{"name": "synonym_swap", "swaps": 2}]
    config = tmp_path / "third_party.yaml"
    config.write_text(yaml.safe_dump(raw))
    env["ZP_EVOLVE_PLUGINS"] = "tests.toy_plugin"
    run = subprocess.run([sys.executable, "-m", "zp_evolve.cli.main", "run", str(config), "--run-dir", str(tmp_path / "r"), "--no-progress"],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["operators"]["synonym_swap"]["accepted"] > 0

    # the metric is callable through the registry like a built-in one
    check = subprocess.run(
        [sys.executable, "-c", "from zp_evolve.plugins import load_plugins; m = load_plugins()['metrics'].get('exact_match_ci').factory; print(m(['Good ', 'bad'], ['good', 'good']))"],
        capture_output=True, text=True, env=env, cwd=REPO,
    )
    assert check.stdout.strip() == "0.5", check.stderr
