"""``zp-evolve``: run, resume, validate and report searches; list plugins.

Plugins add commands (``tasks``, ``data pull``, ``train``...) through the
``zp_register_commands`` hook. Errors print a message and exit with status 2;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import Callable, Sequence

from zp_evolve.errors import PluginError, ZpError

Handler = Callable[[argparse.Namespace], int]


def _core_commands() -> list[tuple[str, Handler, Callable[[argparse.ArgumentParser], None], str]]:
    from zp_evolve.cli import core

    return [
        ("run", core.run_command, core.run_arguments, "run an experiment YAML: a search, a training job or a sweep"),
        ("resume", core.resume_command, core.resume_arguments, "continue a stopped or killed run"),
        ("validate", core.validate_command, core.validate_arguments, "check configs without loading models"),
        ("plugins", core.plugins_command, core.plugins_arguments, "list every component and its plugin"),
        ("report", core.report_command, core.report_arguments, "write report.md, tables and plots for runs and sweeps"),
        ("export", core.export_command, core.export_arguments, "the final prompts of a search with their scores, as YAML or JSON"),
    ]


def build_parser(plugins=None) -> argparse.ArgumentParser:
    from zp_evolve import __version__

    parser = argparse.ArgumentParser(
        prog="zp-evolve",
        description="Genetic Prompt Search and multitask prompted training (ZeroPrompt).",
        epilog="Start with: zp-evolve run experiments/quickstart.yaml. Every command has --help.",
    )
    parser.add_argument("--version", action="version", version=f"zp-evolve {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    commands = list(_core_commands())
    if plugins is not None:
        for component in plugins["commands"]:
            meta = component.meta
            commands.append((component.name, component.factory, meta.get("add_arguments"), meta.get("help", "")))
    for name, handler, add_arguments, help_text in commands:
        words = name.split()
        target = sub
        if len(words) == 2:
            if words[0] not in groups:
                group_parser = sub.add_parser(words[0], help=f"{words[0]} commands: " + ", ".join(
                    c[0].split()[1] for c in commands if c[0].split()[0] == words[0] and len(c[0].split()) == 2))
                groups[words[0]] = group_parser.add_subparsers(dest=f"{words[0]}_command", metavar="COMMAND", required=True)
            target = groups[words[0]]
        elif len(words) != 1:
            raise PluginError(f"command name {name!r} must be one word or two (group and command)")
        command_parser = target.add_parser(words[-1], help=help_text, description=help_text)
        command_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if add_arguments is not None:
            add_arguments(command_parser)
        command_parser.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if "--no-progress" in argv:
        os.environ["TQDM_DISABLE"] = "1"  # also silences the model loaders' bars (transformers uses tqdm)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from zp_evolve.plugins import load_plugins

        plugins = load_plugins()
        parser = build_parser(plugins)
        args = parser.parse_args(argv)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except ZpError as error:
        if debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted. A run can be continued with: zp-evolve resume RUN_DIR", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
