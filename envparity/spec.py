"""Loading a spec: YAML with positions, then the schema, then the rules of meaning.

Every problem found is collected (not just the first) and reported with
file:line:col. Compatibility knowledge (CUDA, GPUs, instances, torch) lives in
`compat`; the rules here are the ones that need no table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from envparity import compat, compat_tables, requirements
from envparity.diagnostics import Diagnostic, SpecError
from envparity.fingerprint import fingerprint
from envparity.model import STAGES, NodeRange, Run, Software, Spec, Stage, frozen_map
from envparity.schema import check_schema
from envparity.yamlsource import SourceMap, load_yaml


def load_spec(path: str | Path) -> Spec:
    """Load, validate and normalise one spec file; raise SpecError with every problem found."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _file_error(
            name, "no such file", "give a spec file such as envspecs/train.yaml"
        ) from None
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


def parse_spec(text: str, file: str = "<spec>") -> Spec:
    """Like `load_spec`, from text; `file` names it in messages."""
    data, source = load_yaml(text, file)
    if not isinstance(data, dict):
        raise _file_error(
            file,
            "a spec must be a YAML mapping of fields (envparity: 1, name: ...)",
            "see envspecs/ for examples, or run `envparity schema`",
            at_start=True,
        )
    problems = check_schema(data, source.raw)
    if problems:
        raise SpecError(_locate(problems, source))
    problems = _check_meaning(data)
    if any(d.severity == "error" for d in problems):
        raise SpecError(_locate(problems, source))
    spec = _build(data, source)
    problems = _locate(problems + compat.check_compatibility(spec), source)
    if any(d.severity == "error" for d in problems):
        raise SpecError(problems)
    return replace(spec, warnings=tuple(problems))


def _file_error(file: str, message: str, hint: str, *, at_start: bool = False) -> SpecError:
    """An error about the file as a whole; `at_start` points at 1:1 of a file that was read."""
    where = {"line": 1, "column": 1} if at_start else {}
    return SpecError([Diagnostic(message, file=file, hint=hint, **where)])


def parse_spec_unchecked(text: str, file: str) -> Spec:
    """A spec that passes the schema, without the rules of meaning (for comparing with history)."""
    data, source = load_yaml(text, file)
    problems = check_schema(data) if isinstance(data, dict) else [Diagnostic("not a spec mapping")]
    if problems:
        raise SpecError(_locate(problems, source))
    return _build(data, source)


def _locate(problems: list[Diagnostic], source: SourceMap) -> list[Diagnostic]:
    """Positions for each problem, in the order of the file."""
    located = [source.locate(d) for d in problems]
    return sorted(located, key=lambda d: (d.line or 0, d.column or 0))


def _build(data: dict, source: SourceMap) -> Spec:
    cuda = data.get("cuda")
    software = Software(
        envparity=data["envparity"],
        name=data["name"],
        version=data["version"],
        python=data["python"],
        cuda=cuda,
        cudnn=_text(data.get("cudnn")),
        driver=data.get("driver"),
        gpus=tuple(sorted(data.get("gpus") or ())),
        os=data.get("os") or compat_tables.default_os(cuda),
        base_image=data.get("base_image"),
        system_packages=tuple(sorted(data.get("system_packages") or ())),
        python_packages=requirements.normalise_all(data["python_packages"]),
        package_indexes=tuple(data.get("package_indexes") or ()),
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
    ordered = {name: stages[name] for name in STAGES if name in stages}
    return Spec(
        source.file,
        software,
        data.get("description"),
        run,
        frozen_map(ordered),
        fingerprint(software),
        positions=source,
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
    """Integers the schema allows where text is meant (cudnn: 9, cpu: 8) become text."""
    return None if value is None else str(value)


def _check_meaning(data: dict) -> list[Diagnostic]:
    """The rules that need no compatibility table."""
    out = requirements.check_pins(data["python_packages"], ("python_packages",))
    out += _check_system_packages(data.get("system_packages") or [])
    if data.get("cudnn") is not None and not data.get("cuda"):
        out.append(
            Diagnostic(
                "cudnn is set but cuda is not: cuDNN needs CUDA",
                ("cudnn",),
                'set cuda (e.g. cuda: "12.4.1"), or remove cudnn for a CPU-only environment',
            )
        )
    top_env = data.get("env") or {}
    out += _check_workload_kind(data)
    out += _check_reserved_env(("env",), top_env)
    top_pins = {requirements.name_of(r) for r in data["python_packages"]}
    for stage, raw in data["stages"].items():
        raw = raw or {}
        where = ("stages", stage)
        extra = raw.get("extra_python_packages") or []
        out += requirements.check_pins(extra, (*where, "extra_python_packages"))
        for i, req in enumerate(extra):
            if requirements.name_of(req) in top_pins:
                out.append(
                    Diagnostic(
                        f"'{requirements.name_of(req)}' is already pinned in python_packages; "
                        "a stage may add "
                        "packages but not change the software every stage shares",
                        (*where, "extra_python_packages", i),
                        "remove it here, or change the pin in python_packages for every stage",
                    )
                )
        out += _check_reserved_env((*where, "env"), raw.get("env") or {})
        for key in raw.get("env") or {}:
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
        nodes = raw.get("nodes")
        if nodes and nodes["min"] > nodes["max"]:
            out.append(
                Diagnostic(
                    f"nodes.min ({nodes['min']}) is larger than nodes.max ({nodes['max']})",
                    (*where, "nodes"),
                    "make min <= max",
                )
            )
    return out


RESERVED_ENV_PREFIX = "ENVPARITY_"  # the workload's identity variables (components/workload.py)


def _check_reserved_env(where: tuple, env: dict) -> list[Diagnostic]:
    return [
        Diagnostic(
            f"env var {key} is reserved: envparity sets {RESERVED_ENV_PREFIX}* on every workload",
            (*where, key),
            f"rename it without the {RESERVED_ENV_PREFIX} prefix",
            at_key=True,
        )
        for key in env
        if key.startswith(RESERVED_ENV_PREFIX)
    ]


def _check_workload_kind(data: dict) -> list[Diagnostic]:
    """A service (run.port) has probes and no schedule; a batch command has no health path."""
    run = data.get("run") or {}
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
        for stage, raw in data["stages"].items():
            if (raw or {}).get("schedule") is not None:
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
