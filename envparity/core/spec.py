"""Loading a spec: YAML with positions, then the schema, then the rules of meaning.

Every problem found is collected (not just the first) and reported with
file:line:col. Compatibility knowledge (CUDA, GPUs, instances, torch) lives in
`compat`; the rules here are the ones that need no table. The loader finds the knowledge
snapshot for the spec's folder once and completes the spec with it (complete.py): the
spec carries both, so nothing later looks the snapshot up again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from envparity.core import (
    compat,
    credentials,
    cuda_image,
    env_rules,
    facts,
    named_file,
    requirements,
    requirements_file,
)
from envparity.core.complete import complete, written_gpus
from envparity.core.diagnostics import Diagnostic, SpecError
from envparity.core.fingerprint import fingerprint
from envparity.core.knowledge.tables import Tables
from envparity.core.message import one_line
from envparity.core.model import NodeRange, Run, Software, Spec, Stage, WrittenGpu, frozen_map
from envparity.core.requirements_file import RequirementsFile
from envparity.core.schema import check_schema, schema
from envparity.core.schema.conforms import conforms
from envparity.core.yamlsource import MAX_SPEC_BYTES, SourceMap, load_yaml


def load_spec(path: str | Path) -> Spec:
    """Load, validate and normalise one spec file; raise SpecError with every problem found."""
    name = str(path)
    try:
        text = named_file.read_regular(Path(path), MAX_SPEC_BYTES, follow=True).decode("utf-8")
    except FileNotFoundError:
        raise _file_error(
            name, "no such file", "give a spec file such as envspecs/train.yaml"
        ) from None
    except named_file.Unreadable as exc:
        raise _file_error(name, f"the spec file {exc.args[0]}", exc.args[1]) from None
    except UnicodeDecodeError as exc:
        raise _file_error(
            name, f"not UTF-8 text ({exc.reason} at byte {exc.start})", "save the spec as UTF-8"
        ) from None
    except OSError as exc:
        raise _file_error(name, f"cannot read: {exc.strerror}", "check its permissions") from None
    return parse_spec(text, name)


def load_specs(paths: Iterable[str | Path]) -> list[Spec]:
    """Load several specs; raise one SpecError with the problems of all of them."""
    specs, problems = [], []
    for path in paths:
        try:
            specs.append(load_spec(path))
        except SpecError as exc:
            problems.extend(exc.diagnostics)
    problems += check_unique_names(specs)
    if any(d.severity == "error" for d in problems):
        raise SpecError(problems)
    return specs


def parse_spec(
    text: str, file: str = "<spec>", read: Reader | None = None, tables: Tables | None = None
) -> Spec:
    """Like `load_spec`, from text; `file` names it in messages.

    `read(relative_path)` gives the text of a file the spec names (python_requirements),
    or None when there is none; by default it reads beside `file`. `tables` is the
    knowledge to check against; by default the snapshot for the folder of `file`.
    """
    data, source = load_yaml(text, file)
    if not isinstance(data, dict):
        raise _file_error(
            file,
            "a spec must be a YAML mapping of fields (envparity: 1, name: ...)",
            "see envspecs/ for examples, or run `envparity schema`",
            at_start=True,
        )
    schema_problems = _with_python_hint(check_schema(data, source.raw), source.raw)
    tables = tables or _tables_for(file)
    gpus = written_gpus(_list(data.get("gpus")), tables)
    # The rules of meaning look only at values of the right shape, so they run even when
    # the schema found problems elsewhere: one round shows every problem that can be known.
    problems = _unless_reported(_check_meaning(data, tables, gpus), schema_problems)
    from_file, file_problems = _read_requirements(data, file, read)
    problems += schema_problems + file_problems
    if any(d.severity == "error" for d in problems):
        raise SpecError(_locate(problems, source))
    spec = _build(data, source, from_file, tables, gpus)
    found = _relocated(compat.check_compatibility(spec), spec, source)
    problems = _locate(problems + found, source)
    if any(d.severity == "error" for d in problems):
        raise SpecError(problems)
    return replace(spec, warnings=tuple(problems))


Reader = named_file.Reader


def _tables_for(file: str) -> Tables:
    """The knowledge for a spec file: the snapshot found from its folder upwards."""
    return Tables.for_folder(Path(file).parent if file != "<spec>" else None)


def _read_requirements(data: dict, file: str, read: Reader | None) -> tuple:
    """(RequirementsFile or None, problems) of the spec's python_requirements."""
    relative = data.get("python_requirements")
    if not isinstance(relative, str) or not conforms(
        relative, schema()["properties"]["python_requirements"], schema()
    ):
        return None, []  # the schema says what is wrong with it
    shown = _shown(file, relative)
    inline = [r for r in _list(data.get("python_packages")) if isinstance(r, str)]
    text, problem = named_file.read(file, relative, requirements_file.FIELD, shown, read)
    if problem is not None:
        return None, [problem]
    return requirements_file.parse(text, shown, inline)


def _relocated(problems: list[Diagnostic], spec: Spec, source: SourceMap) -> list[Diagnostic]:
    """Compatibility problems about values the loader expanded, moved to where they were written.

    The rules see the normalised spec: a pin that came from python_requirements is located
    at its line there, and a GPU that a short name (`V100`) stands for at that name.
    """
    return [_at_pin_line(_at_gpu_name(d, spec, source), spec, source) for d in problems]


def _at_pin_line(d: Diagnostic, spec: Spec, source: SourceMap) -> Diagnostic:
    from_file = spec.software.python_requirements
    path = d.path
    if from_file is None or len(path) != 2 or path[0] != "python_packages" or path in source.raw:
        return d
    where = from_file.position_of(spec.software.python_packages[path[1]])
    if where is None:
        return d
    shown = _shown(spec.source, source.raw[requirements_file.FIELD])
    return replace(d, path=requirements_file.FIELD, file=shown, line=where[0], column=where[1])


def _at_gpu_name(d: Diagnostic, spec: Spec, source: SourceMap) -> Diagnostic:
    path, gpus = d.path, spec.software.gpus
    if len(path) != 2 or path[0] != "gpus" or not isinstance(path[1], int):
        return d
    written = source.raw.get(path)
    if written in gpus and written in d.message:  # the rule found the product as written
        return d
    product = gpus[path[1]] if path[1] < len(gpus) else None
    if product is None or product not in d.message:
        return d
    for written in spec.completed.gpus:  # type: ignore[union-attr]
        if product in written.products:
            return replace(d, path=("gpus", written.index))
    return d


def _shown(spec_file: str, relative: str) -> str:
    """How messages name the requirements file: beside the spec as the user named it."""
    return str(Path(spec_file).parent / relative) if spec_file != "<spec>" else relative


def _unless_reported(problems: list[Diagnostic], reported: list[Diagnostic]) -> list[Diagnostic]:
    """`problems` without those at a path the schema already reported on."""
    paths = {d.path for d in reported}
    return [d for d in problems if d.path not in paths]


def _with_python_hint(problems: list[Diagnostic], raw: dict) -> list[Diagnostic]:
    """A Python given without its patch release ("3.12") gets the newest known one as hint."""
    written = raw.get(("python",))
    if not isinstance(written, str) or written.count(".") != 1:
        return problems
    newest = facts.newest_python_patch(written)
    known = ", ".join(facts.known_python_minors())
    hint = (
        f'give the exact release in quotes, e.g. python: "{newest}" (the newest {written} '
        "release envparity knows)"
        if newest
        else f"give an exact X.Y.Z release in quotes, of a Python envparity knows ({known})"
    )
    out = []
    for d in problems:
        if d.path == ("python",) and d.message.startswith("expected"):  # YAML read a number
            d = replace(d, hint=f"{hint}; YAML reads {written} unquoted as a number")
        elif d.path == ("python",):
            d = replace(d, message=f"{written!r} is not an exact Python release X.Y.Z", hint=hint)
        out.append(d)
    return out


def _file_error(file: str, message: str, hint: str, *, at_start: bool = False) -> SpecError:
    """An error about the file as a whole; `at_start` points at 1:1 of a file that was read."""
    where = {"line": 1, "column": 1} if at_start else {}
    return SpecError([Diagnostic(message, file=file, hint=hint, **where)])


def parse_spec_unchecked(
    text: str, file: str, read: Reader | None = None, tables: Tables | None = None
) -> Spec:
    """A spec that passes the schema, without the rules of meaning (for comparing with history)."""
    data, source = load_yaml(text, file)
    problems = check_schema(data) if isinstance(data, dict) else [Diagnostic("not a spec mapping")]
    if problems:
        raise SpecError(_locate(problems, source))
    from_file, problems = _read_requirements(data, file, read)
    if any(d.severity == "error" for d in problems):
        raise SpecError(_locate(problems, source))
    tables = tables or _tables_for(file)
    return _build(data, source, from_file, tables, written_gpus(_list(data.get("gpus")), tables))


def _locate(problems: list[Diagnostic], source: SourceMap) -> list[Diagnostic]:
    """Positions for each problem, in the order of the file, each in one line of text."""
    located = [one_line(d if d.file else source.locate(d)) for d in problems]
    return sorted(located, key=lambda d: (d.line or 0, d.column or 0))


def _build(
    data: dict,
    source: SourceMap,
    from_file: RequirementsFile | None,
    tables: Tables,
    written: tuple[WrittenGpu, ...],
) -> Spec:
    """The completed model of a spec that passed the schema."""
    cuda = data.get("cuda")
    pins = list(data["python_packages"]) + list(from_file.requirements if from_file else ())
    indexes = list(data.get("package_indexes") or ())
    indexes += [u for u in (from_file.extra_index_urls if from_file else ()) if u not in indexes]
    gpus = {p for name in written for p in name.products or (name.name,)}
    tag = cuda_image.parse(data["base_image"], tables) if data.get("base_image") else None
    software = Software(
        envparity=data["envparity"],
        name=data["name"],
        version=data["version"],
        python=data["python"],
        cuda=cuda,
        cudnn=_text(data.get("cudnn")),
        cuda_flavor=data.get("cuda_flavor", tag.flavor if tag else "runtime") if cuda else None,
        driver=data.get("driver"),
        gpus=tuple(sorted(gpus)),
        os=data.get("os") or (tag.os if tag else tables.default_os(cuda)),
        base_image=data.get("base_image"),
        system_packages=tuple(sorted(data.get("system_packages") or ())),
        python_packages=requirements.normalise_all(pins),
        python_requirements=from_file,
        package_indexes=tuple(indexes),
        env=frozen_map({k: _text(v) for k, v in (data.get("env") or {}).items()}),
    )
    raw_run = data.get("run") or {}
    run = Run(
        command=tuple(_text(a) for a in raw_run.get("command") or ()),
        port=raw_run.get("port"),
        gpus=raw_run.get("gpus", 0),
        cpu=_text(raw_run.get("cpu")),
        memory=_text(raw_run.get("memory")),
        health_path=raw_run.get("health_path"),
        backoff_limit=raw_run.get("backoff_limit", Run.backoff_limit),
    )
    stages = {name: _stage(raw or {}) for name, raw in data["stages"].items()}
    instance_types = {name: stage.instance_type for name, stage in stages.items()}
    return Spec(
        source.file,
        software,
        data.get("description"),
        run,
        frozen_map(stages),
        fingerprint(software),
        positions=source,
        tables=tables,
        completed=complete(software, tables, instance_types, written),
    )


def _stage(raw: dict[str, Any]) -> Stage:
    nodes = raw.get("nodes")
    return Stage(
        replicas=raw.get("replicas"),
        gpus=raw.get("gpus"),
        cpu=_text(raw.get("cpu")),
        memory=_text(raw.get("memory")),
        instance_type=raw.get("instance_type"),
        nodes=NodeRange(nodes["min"], nodes["max"]) if nodes else None,
        region=raw.get("region"),
        cluster=raw.get("cluster"),
        registry=raw.get("registry"),
        env=frozen_map({k: _text(v) for k, v in (raw.get("env") or {}).items()}),
        secrets=tuple(raw.get("secrets") or ()),
        extra_python_packages=requirements.normalise_all(raw.get("extra_python_packages") or ()),
        schedule=raw.get("schedule"),
    )


def _text(value: Any) -> str | None:
    """Integers the schema allows where text is meant (cudnn: 9, cpu: 8) become text.

    The schema counts 1e16 (a float YAML reads from 1.0e+16) an integer, as JSON Schema does:
    it is written as one (10000000000000000), never in the exponent form quantities lack.
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else str(value)


# The rules read at most this many entries of a list or mapping: the schema's maxItems and
# maxProperties report a longer one, and pins are parsed several times each.
_MOST_READ = 2000


def _list(value: Any) -> list:
    return value[:_MOST_READ] if isinstance(value, list) else []


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        return {}
    return value if len(value) <= _MOST_READ else dict(list(value.items())[:_MOST_READ])


def _check_meaning(data: dict, tables: Tables, gpus: tuple[WrittenGpu, ...]) -> list[Diagnostic]:
    """The rules that need no compatibility table.

    They run on whatever has the shape they read (a list, a mapping, a string) whether or
    not the schema found problems elsewhere; a value of the wrong shape is the schema's.
    """
    out = requirements.check_pins(_list(data.get("python_packages")), ("python_packages",))
    out += _check_system_packages(
        [p for p in _list(data.get("system_packages")) if isinstance(p, str)]
    )
    if data.get("cudnn") is not None and not data.get("cuda"):
        out.append(
            Diagnostic(
                "cudnn is set but cuda is not: cuDNN needs CUDA",
                ("cudnn",),
                'set cuda (e.g. cuda: "12.4.1"), or remove cudnn for a CPU-only environment',
            )
        )
    out += cuda_image.check(data, tables)
    if data.get("cuda_flavor") is not None and not data.get("cuda"):
        out.append(
            Diagnostic(
                "cuda_flavor is set but cuda is not: it picks the nvidia/cuda image of a GPU "
                "environment",
                ("cuda_flavor",),
                'set cuda (e.g. cuda: "12.4.1"), or remove cuda_flavor',
            )
        )
    for gpu in gpus:
        if not gpu.products:
            aliases = ", ".join(
                f"{a} ({' or '.join(p)})" for a, p in facts.gpu_aliases(tables).items()
            )
            out.append(
                Diagnostic(
                    f"GPU '{gpu.name}' is not known to envparity",
                    ("gpus", gpu.index),
                    f"use one of: {', '.join(facts.gpu_names(tables))}; short names: {aliases}",
                )
            )
    top_env = _mapping(data.get("env"))
    out += _check_workload_kind(data)
    out += env_rules.check_env(("env",), top_env, runtime=False)
    out += credentials.check_index_urls(("package_indexes",), _list(data.get("package_indexes")))
    top_pins = {
        requirements.name_of(r) for r in _list(data.get("python_packages")) if isinstance(r, str)
    }
    for stage, raw in _mapping(data.get("stages")).items():
        raw = _mapping(raw)
        where = ("stages", stage)
        extra = _list(raw.get("extra_python_packages"))
        out += requirements.check_pins(extra, (*where, "extra_python_packages"))
        for i, req in enumerate(extra):
            if isinstance(req, str) and requirements.name_of(req) in top_pins:
                out.append(
                    Diagnostic(
                        f"'{requirements.name_of(req)}' is already pinned in python_packages; "
                        "a stage may add "
                        "packages but not change the software every stage shares",
                        (*where, "extra_python_packages", i),
                        "remove it here, or change the pin in python_packages for every stage",
                    )
                )
        out += env_rules.check_env((*where, "env"), _mapping(raw.get("env")), runtime=True)
        out += env_rules.check_secrets((*where, "secrets"), _list(raw.get("secrets")))
        for key in _mapping(raw.get("env")):
            if key in top_env:
                out.append(
                    Diagnostic(
                        f"env var {key} is baked into the image by the top-level env; "
                        "a stage cannot redefine it",
                        (*where, "env", key),
                        "rename the runtime variable, or change the top-level env",
                        at_key=True,
                    )
                )
        if extra and stage in ("staging", "production"):
            out.append(
                Diagnostic(
                    f"{stage} adds extra_python_packages: it can then not run the image "
                    "promoted by digest "
                    "from testing",
                    (*where, "extra_python_packages"),
                    "put packages every stage needs in python_packages, and test tools in testing",
                    severity="warning",
                )
            )
        nodes = _mapping(raw.get("nodes"))
        low, high = nodes.get("min"), nodes.get("max")
        if type(low) is int and type(high) is int and low > high:
            out.append(
                Diagnostic(
                    f"nodes.min ({low}) is larger than nodes.max ({high})",
                    (*where, "nodes"),
                    "make min <= max",
                )
            )
    return out


def _check_workload_kind(data: dict) -> list[Diagnostic]:
    """A service (run.port) has probes and no schedule; a batch command has no health path."""
    run = _mapping(data.get("run"))
    out = []
    if run.get("port") is None and run.get("health_path") is not None:
        out.append(
            Diagnostic(
                "run.health_path is set but run.port is not: only a service is probed",
                ("run", "health_path"),
                "set run.port, or remove health_path for a batch command",
            )
        )
    if run.get("port") is not None:
        for stage, raw in _mapping(data.get("stages")).items():
            if _mapping(raw).get("schedule") is not None:
                out.append(
                    Diagnostic(
                        "a schedule runs a batch command as a CronJob, but run.port makes this "
                        "a service",
                        ("stages", stage, "schedule"),
                        "remove the schedule, or remove run.port for a batch command",
                    )
                )
    return out


def _check_system_packages(packages: list[str]) -> list[Diagnostic]:
    seen: dict[str, int] = {}
    out = []
    for i, package in enumerate(packages):
        name = package.split("=", 1)[0]
        if name in seen:
            out.append(
                Diagnostic(
                    f"OS package '{name}' is listed twice (first at system_packages[{seen[name]}])",
                    ("system_packages", i),
                    "keep one entry",
                )
            )
        seen.setdefault(name, i)
    return out


def check_unique_names(specs: list[Spec]) -> list[Diagnostic]:
    """Two files may not declare the same environment name."""
    by_name: dict[str, Spec] = {}
    problems = []
    for spec in specs:
        first = by_name.setdefault(spec.name, spec)
        if first is not spec and Path(first.source).resolve() != Path(spec.source).resolve():
            problems.append(
                spec.locate(
                    Diagnostic(
                        f"environment name '{spec.name}' is also used by {first.source}",
                        ("name",),
                        "give each environment a unique name",
                    )
                )
            )
    return problems
