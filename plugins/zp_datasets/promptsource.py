"""promptsource templates as handcrafted prompts (generation 0), without installing promptsource.

A promptsource ``templates.yaml`` holds Jinja templates whose output is
``input text ||| target``, with ``answer_choices`` (itself Jinja, e.g. ``Yes ||| No``).
:func:`read_templates` reads the file with a YAML loader that knows only promptsource's
two tags; :func:`convert` turns one template into a zp_evolve prompt by rendering it with
each input column bound to its placeholder text (``[X1]``...): the input side becomes
the template, `` _`` (the answer blank) is appended, and for fixed-label tasks the
answer choices become the prompt's ``||| Yes ||| No`` part. A template the prompt
format cannot express faithfully is skipped with the reason (:class:`Skip`).

Templates are rendered in Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
(strict undefined): a template reaching for Python internals stops with a
:class:`~zp_evolve.errors.DataError` naming it, and jinja2 is imported only here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from zp_evolve.errors import DataError
from zp_evolve.prompts import BLANK, PLACEHOLDER, join_choices, template_problems
from zp_evolve.textfiles import read_utf8

#: How many options a list column (hellaswag's ``endings``) is assumed to hold when no row says.
LIST_OPTIONS = 4
_SENTINEL = "\ue000opt{}\ue001"  # private-use characters: never in a real template
_SENTINELS = re.compile("\ue000opt(\\d+)\ue001")
_MAX_REPEAT = 10_000  # 'a' * n and x ** n in a template are capped at this


@dataclass(frozen=True)
class SourceTemplate:
    """One promptsource template, as read from its file."""

    id: str
    name: str
    jinja: str
    answer_choices: str | None
    file: str

    def label(self) -> str:
        return f"promptsource template {self.name!r} (id {self.id}) in {self.file}"


@dataclass(frozen=True)
class Binding:
    """How a task card's columns meet a template: inputs, target, options and fixed values."""

    inputs: Mapping[str, tuple[str, ...]]  # placeholder -> columns, joined with a space
    target: str
    labels: tuple[str, ...] = ()  # fixed labels, in index order; () for multiple choice
    options: tuple[str, ...] = ()  # option columns, or one list column (options_list)
    options_list: bool = False
    index_base: int = 0  # the target's value for the first label/option (1 in winogrande)
    constants: Mapping[str, Any] = field(default_factory=dict)  # `where:` columns, fixed

    @property
    def multiple_choice(self) -> bool:
        return bool(self.options)

    def columns(self) -> set[str]:
        inputs = {c for cols in self.inputs.values() for c in cols}
        return inputs | {self.target, *self.options, *self.constants}


class Skip(Exception):
    """A template that cannot become a zp_evolve prompt; the message says why."""


# -- reading templates.yaml -------------------------------------------------------
class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that maps promptsource's ``!Template``/``!TemplateMetadata`` to dicts and refuses other tags."""


def _mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Every tag without a constructor of its own (``!!python/object/apply:...`` included) ends here."""
    raise yaml.constructor.ConstructorError(None, None, f"tag {node.tag!r} is not allowed", node.start_mark)


_TemplateLoader.add_constructor("!Template", _mapping)
_TemplateLoader.add_constructor("!TemplateMetadata", _mapping)
_TemplateLoader.add_constructor(None, _refuse)


def read_templates(path: Path) -> tuple[SourceTemplate, ...]:
    """The templates of a promptsource ``templates.yaml``, in file order (read once while the file is unchanged).

    Raises:
        DataError: the file is missing or not UTF-8, is not a templates file, or holds
            a YAML tag other than ``!Template`` and ``!TemplateMetadata`` (named with its line).
    """
    try:
        stat = path.stat()
    except OSError as error:
        raise DataError(f"promptsource templates file {path} cannot be read ({error.strerror})") from None
    return _read_templates(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_templates(path: Path, mtime: int, size: int) -> tuple[SourceTemplate, ...]:
    text = read_utf8(path)
    try:
        data = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise DataError(
            f"{path}:{line}: {error.problem}; a promptsource templates file may only use !Template and "
            "!TemplateMetadata. Refusing to read it: take the file from promptsource itself."
        ) from None
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not a readable YAML file: {error}") from None
    templates = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(templates, dict):
        raise DataError(f"{path}: not a promptsource templates file (no 'templates:' mapping of id -> !Template)")
    out = []
    for key, entry in templates.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("jinja"), str):
            raise DataError(f"{path}: template {key!r} has no 'jinja' text")
        choices = entry.get("answer_choices")
        out.append(SourceTemplate(
            id=str(entry.get("id") or key), name=str(entry.get("name") or key), jinja=entry["jinja"],
            answer_choices=None if choices is None else str(choices), file=str(path),
        ))
    return tuple(out)


def select(templates: Sequence[SourceTemplate], names: Sequence[str], ids: Sequence[str], file: Path) -> list[SourceTemplate]:
    """The templates named in ``names`` or ``ids`` (all of them when both are empty), in that order."""
    if not names and not ids:
        return list(templates)
    by_name = {t.name: t for t in templates}
    by_id = {t.id: t for t in templates}
    unknown = [n for n in names if n not in by_name] + [i for i in ids if i not in by_id]
    if unknown:
        listing = ", ".join(repr(t.name) for t in templates)
        raise DataError(f"{file}: no template {', '.join(map(repr, unknown))}; its templates are: {listing}")
    chosen = [by_name[n] for n in names] + [by_id[i] for i in ids]
    return list({t.id: t for t in chosen}.values())


# -- the sandbox ------------------------------------------------------------------
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        """No mutation, no internals, and no ``'x' * 10**9`` (memory) either."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            large = any(isinstance(v, int) and abs(v) > _MAX_REPEAT for v in (left, right))
            numbers = all(isinstance(v, (int, float)) for v in (left, right))
            if large and (operator == "**" or not numbers):  # a huge power, or a string/list repeated
                raise SecurityError(f"'{operator}' with an operand over {_MAX_REPEAT} is not allowed in a template")
            return super().call_binop(context, operator, left, right)

    return Sandbox(undefined=StrictUndefined, keep_trailing_newline=False)


@lru_cache(maxsize=1)
def environment() -> Any:
    return _environment()


class LabelValue(int):
    """A label index that also equals its digits as a string, as hellaswag's ``label == '1'`` expects."""

    def __eq__(self, other: object) -> bool:
        return str(int(self)) == other if isinstance(other, str) else int(self) == other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = int.__hash__


def render(template: SourceTemplate, jinja: str, context: Mapping[str, Any]) -> str:
    """``jinja`` rendered in the sandbox; Python internals stop with a DataError, other failures are a :class:`Skip`."""
    from jinja2.exceptions import SecurityError, TemplateError

    try:
        return _compiled(jinja).render(**context)
    except SecurityError as error:
        raise DataError(
            f"{template.label()} tries to reach Python internals ({error}); it was not run. "
            "Remove it from the file, or leave it out with the card's templates: names: [...]"
        ) from None
    except TemplateError as error:
        raise Skip(f"its Jinja fails: {type(error).__name__}: {error}") from None
    except (TypeError, ValueError, LookupError, ArithmeticError) as error:
        raise Skip(f"its Jinja fails: {type(error).__name__}: {error}") from None


@lru_cache(maxsize=4096)
def _compiled(jinja: str) -> Any:
    return environment().from_string(jinja)


def split_output(text: str) -> tuple[str, str]:
    """``(input side, target side)`` of a rendered template."""
    parts = text.split("|||")
    if len(parts) != 2:
        raise Skip("its output is not 'text ||| target' (a condition leaves it empty, or it has several '|||')")
    return parts[0], " ".join(parts[1].split())


def tidy(text: str) -> str:
    """Rendered text as a prompt keeps it: lines right-stripped, runs of spaces single, ends stripped."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def flat(text: str) -> str:
    return " ".join(text.split())


# -- conversion -------------------------------------------------------------------
def _check_names(template: SourceTemplate, binding: Binding) -> None:
    """Every variable a template reads is bound, and inputs are only ever shown as they are."""
    from jinja2 import meta, nodes
    from jinja2.exceptions import TemplateSyntaxError

    env = environment()
    inputs = {c: p for p, cols in binding.inputs.items() for c in cols}
    for source in (template.jinja, template.answer_choices or ""):
        try:
            ast = env.parse(source)
            names = meta.find_undeclared_variables(ast)  # also compiles: an unknown filter fails here
        except TemplateSyntaxError as error:  # TemplateAssertionError too (promptsource's random `choice` filter)
            raise Skip(f"its Jinja does not compile (line {error.lineno}: {error.message})") from None
        unbound = sorted(names - binding.columns() - set(env.globals) - {"answer_choices"})
        if unbound:
            raise Skip(
                f"it uses column(s) {', '.join(map(repr, unbound))}, which the card does not bind "
                "(as an input, the target, an option or a where: value)"
            )
        bare = {id(n) for out in ast.find_all(nodes.Output) for n in out.nodes if isinstance(n, nodes.Name)}
        for name in ast.find_all(nodes.Name):
            if name.name in inputs and id(name) not in bare:
                raise Skip(
                    f"it changes or tests input {inputs[name.name]} (column {name.name!r}) with a filter, a method "
                    "such as .lower() or a condition; a zp_evolve prompt shows each input as it is"
                )


def _context(binding: Binding, values: Mapping[str, str], list_size: int) -> dict[str, Any]:
    """Template variables: each input's columns (the first holds ``values[placeholder]``), options as sentinels."""
    context: dict[str, Any] = dict(binding.constants)
    for placeholder, columns in binding.inputs.items():
        for index, column in enumerate(columns):
            context[column] = values[placeholder] if index == 0 else ""
    if binding.options_list:
        context[binding.options[0]] = [_SENTINEL.format(i) for i in range(list_size)]
    else:
        for i, column in enumerate(binding.options):
            context.setdefault(column, _SENTINEL.format(i))
    return context


def _option_words(binding: Binding, context: Mapping[str, Any]) -> list[str]:
    if binding.options_list:
        return list(context[binding.options[0]])
    return [str(context[c]) for c in binding.options]


def convert(template: SourceTemplate, binding: Binding, *, list_size: int = LIST_OPTIONS) -> str:
    """The zp_evolve prompt of a promptsource template, or :class:`Skip` with the reason.

    ``list_size``: options of a list column to assume (a real row's count when there is one).
    """
    _check_names(template, binding)
    if template.answer_choices is None:
        raise Skip("it has no answer_choices (a generation template)")
    placeholders = {p: f"[{p}]" for p in binding.inputs}
    context = _context(binding, placeholders, list_size)
    choices = [flat(c) for c in render(template, template.answer_choices, context).split("|||")]
    options = _option_words(binding, context)
    if binding.multiple_choice:
        if choices != options:
            raise Skip(f"its answer choices {choices} are not the card's options (columns {', '.join(binding.options)})")
        count = len(options)
    else:
        dependent = [c for c in choices if _SENTINELS.search(c) or PLACEHOLDER.search(c)]
        if dependent:
            raise Skip("its answer choices depend on the example; only a multiple-choice card whose options "
                       "are those columns can use it")
        if len(choices) != len(binding.labels):
            raise Skip(f"it has {len(choices)} answer choices for the card's {len(binding.labels)} labels")
        count = len(choices)
    texts = set()
    for i in range(count):
        text, target = split_output(render(template, template.jinja, {**context, "answer_choices": choices,
                                                                       binding.target: LabelValue(i + binding.index_base)}))
        if target != choices[i]:
            label = binding.labels[i] if binding.labels else f"option {i}"
            raise Skip(f"its target is not one of the answer choices (for {label!r} it renders {target!r}, "
                       f"choice {i} is {choices[i]!r})")
        texts.add(tidy(text))
    if len(texts) != 1:
        raise Skip("its text depends on the label")
    text = texts.pop()
    if _SENTINELS.search(text):
        raise Skip("it shows the options in its text; make those columns inputs ([X2], [X3]) to keep it")
    absent = [p for p in binding.inputs if f"[{p}]" not in text]
    if absent:
        named = ", ".join(f"{p} (column {binding.inputs[p][0]!r})" for p in absent)
        raise Skip(f"it does not show input {named}; a zp_evolve prompt shows every input")
    if BLANK.search(text):
        raise Skip("its text has a lone '_', which a zp_evolve prompt reads as the answer blank")
    prompt = join_choices(f"{text} _", () if binding.multiple_choice else choices)
    problems = template_problems(prompt, sorted(binding.inputs), labels=() if binding.multiple_choice else binding.labels)
    if problems:
        raise Skip("; ".join(problems))
    _check_probe(template, binding, text, choices, list_size)
    return prompt


def _fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _check_probe(template: SourceTemplate, binding: Binding, text: str, choices: list[str], list_size: int) -> None:
    """Render with distinct made-up values per column: joined inputs must read as the converted form does."""
    probes = {c: f"Probe{i} text{i}." for i, c in enumerate(sorted({c for cols in binding.inputs.values() for c in cols}))}
    context = _context(binding, {p: "" for p in binding.inputs}, list_size)
    context.update(probes)
    context.update({"answer_choices": choices, binding.target: LabelValue(binding.index_base)})
    if binding.multiple_choice:
        context["answer_choices"] = _option_words(binding, context)
    rendered = flat(split_output(render(template, template.jinja, context))[0])
    expected = flat(_fill(text, {p: " ".join(probes[c] for c in cols) for p, cols in binding.inputs.items()}))
    if rendered != expected:
        raise Skip("it renders differently from its converted form (it reorders or interleaves the columns of an input)")


def check_rows(
    template: SourceTemplate, binding: Binding, prompt: str, rows: Sequence[tuple[Mapping[str, Any], dict[str, str], str]]
) -> None:
    """The converted ``prompt`` must read as promptsource renders ``template`` on real rows.

    ``rows``: ``(raw row, the example's inputs, the example's answer word)`` triples.
    Raises :class:`Skip` with the first row that differs.
    """
    from zp_evolve.prompts import split_choices

    text = split_choices(prompt)[0][: -len(" _")]
    for number, (row, inputs, answer) in enumerate(rows):
        context = dict(row)
        choices = [flat(c) for c in render(template, template.answer_choices or "", context).split("|||")]
        got, target = split_output(render(template, template.jinja, {**context, "answer_choices": choices}))
        want = _fill(text, inputs)
        if flat(got) != flat(want):
            raise Skip(f"on row {number} of the data it renders {_short(got)!r}, not {_short(want)!r} "
                       "(a condition or a filter on the values)")
        if target != flat(answer):
            raise Skip(f"on row {number} of the data its target is {_short(target)!r}, not the row's answer {_short(answer)!r}")


def _short(text: str, size: int = 80) -> str:
    text = flat(text)
    return text if len(text) <= size else text[: size - 3] + "..."
