"""Stages: instance types that exist, have the GPUs asked for, and fit the pods."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from envparity.core.capacity import allocatable, quantity
from envparity.core.compat.common import DOCS, gpu_ok
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import Instance
from envparity.core.knowledge.tables import Tables
from envparity.core.model import InstanceFacts, Spec, Stage


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t, done = spec.software, spec.tables, spec.completed
    gpu_env = done.cuda is not None  # type: ignore[union-attr]
    if not gpu_env and spec.run.gpus > 0:
        yield Diagnostic(
            f"run.gpus is {spec.run.gpus} but the environment is CPU-only (no cuda)",
            ("run", "gpus"),
            "set run.gpus: 0, or set cuda and gpus for a GPU environment",
        )
    for name, stage in spec.stages.items():
        where = ("stages", name)
        gpus = spec.run.gpus if stage.gpus is None else stage.gpus
        gpus_path = (*where, "gpus") if stage.gpus is not None else ("run", "gpus")
        if not gpu_env and stage.gpus:
            yield Diagnostic(
                f"stage {name} asks for {stage.gpus} GPUs per replica but the environment is "
                "CPU-only (no cuda)",
                gpus_path,
                "set gpus: 0 for this stage, or set cuda and gpus",
            )
        if stage.instance_type is None:
            continue
        itype, path = stage.instance_type, (*where, "instance_type")
        facts = done.instances[name]  # type: ignore[union-attr]
        if facts is None:
            yield Diagnostic(
                f"instance type '{itype}' is not known to envparity",
                path,
                _known_instances_hint(t, itype),
            )
            continue
        yield from _fits(spec, name, stage, facts, itype)
        info = facts.info
        if info.gpu is None:
            if gpus > 0 and gpu_env:
                yield Diagnostic(
                    f"stage {name} needs {gpus} GPU(s) per replica but {itype} has no GPU",
                    path,
                    f"use a GPU instance type such as "
                    f"{_example_instance(t, sw.gpus, gpus, _need(spec, stage))}, "
                    "or set gpus: 0 for this stage",
                )
            continue
        if not gpu_env:
            yield Diagnostic(
                f"{itype} is a GPU instance ({info.gpu_count} x {info.gpu}) but the environment is "
                "CPU-only (no cuda)",
                path,
                "use a CPU instance type such as m6i.large, or set cuda and gpus",
                severity="warning",
            )
            continue
        if info.gpu not in sw.gpus:
            listed = ", ".join(sw.gpus) or "none"
            cuda = done.cuda.version  # type: ignore[union-attr]
            other = _example_instance(t, sw.gpus, max(gpus, 1), _need(spec, stage))
            if _gpu_fits(spec, info.gpu, cuda):
                hint = f"add {info.gpu} to gpus, or use an instance type with one of them"
            elif other != "-":
                hint = f"use instance_type: {other} ({cuda} cannot target {info.gpu})"
            else:
                hint = f"use an instance type whose GPU CUDA {cuda} targets, in gpus"
            yield Diagnostic(
                f"{itype} has {info.gpu} GPUs, which are not in gpus ({listed})", path, hint
            )
        if gpus > info.gpu_count:
            bigger = _example_instance(t, (info.gpu,), gpus, _need(spec, stage))
            yield Diagnostic(
                f"stage {name} needs {gpus} GPUs per replica but {itype} has {info.gpu_count}",
                path,
                f"use gpus: {info.gpu_count} or fewer"
                + (f", or {bigger}" if bigger != "-" else ""),
            )


def _gpu_fits(spec: Spec, gpu: str, cuda: str) -> bool:
    """Whether `gpu` may join gpus: the CUDA and the pinned torch build can target it."""
    t, torch = spec.tables, spec.completed.torch  # type: ignore[union-attr]
    if not gpu_ok(t, gpu, cuda):
        return False
    info = t.gpu_info(gpu)
    minor = t.build_cuda(torch.build) if torch and torch.build else None
    if minor is None or info is None:
        return True
    version = torch.version  # type: ignore[union-attr]
    arches = t.torch_build_arches(f"{version.major}.{version.minor}", torch.build)  # type: ignore[union-attr,arg-type]
    if arches is not None:
        cap = info.capability
        return any(a[0] == cap[0] and a[1] <= cap[1] for a in arches)
    return gpu_ok(t, gpu, t.dotted(minor))


def _fits(
    spec: Spec, name: str, stage: Stage, facts: InstanceFacts, itype: str
) -> Iterator[Diagnostic]:
    cpu_text = stage.cpu or spec.run.cpu
    memory_text = stage.memory or spec.run.memory
    if cpu_text is None and memory_text is None:
        return
    cpu_free, memory_free = facts.allocatable
    cpu = quantity(cpu_text) if cpu_text else 0.0
    memory = quantity(memory_text) if memory_text else 0.0
    if cpu <= cpu_free and memory <= memory_free:
        return
    asks = " / ".join(x for x in (cpu_text and f"{cpu_text} CPU", memory_text) if x)
    path = (
        ("stages", name, "cpu")
        if stage.cpu and cpu > cpu_free
        else ("stages", name, "memory")
        if stage.memory and memory > memory_free
        else ("run", "cpu")
        if spec.run.cpu and cpu > cpu_free
        else ("run", "memory")
    )
    bigger = _bigger_instance(spec.tables, facts.info, cpu, memory)  # type: ignore[arg-type]
    who = f"stage {name}" if stage.cpu or stage.memory else "run"
    yield Diagnostic(
        f"{who} asks {asks} per replica; {itype} allocates at most "
        f"{_cores(cpu_free)} CPU / {_gib(memory_free)} to pods",
        path,
        f'use cpu: "{_cores(cpu_free)}" and memory: "{_gib(memory_free)}" or less'
        + (f", or instance_type: {bigger}" if bigger else ""),
    )


def _cores(value: float) -> str:
    return f"{int(value * 100) / 100:g}"  # rounded down: the hint must fit


def _gib(value: float) -> str:
    return f"{int(value / 2**30 * 10) / 10:g}Gi"


def _bigger_instance(t: Tables, info: Instance, cpu: float, memory: float) -> str | None:
    """The smallest type of the same GPU (or CPU-only) and arch whose pods fit."""
    fits = []
    for other, candidate in t.instance_types().items():
        if candidate.gpu != info.gpu or candidate.arch != info.arch:
            continue
        if candidate.gpu_count < info.gpu_count:
            continue
        free_cpu, free_memory = allocatable(candidate)
        if cpu <= free_cpu and memory <= free_memory:
            fits.append((candidate.vcpus, candidate.memory_mib, other))
    return min(fits)[2] if fits else None


def _known_instances_hint(t: Tables, itype: str) -> str:
    family = itype.split(".", 1)[0]
    names = t.instance_types()
    sizes = [name for name in names if name.split(".", 1)[0] == family]
    if sizes:
        return f"known {family} sizes: {', '.join(sorted(sizes, key=lambda n: names[n].vcpus))}"
    families = sorted({name.split(".", 1)[0] for name in names})
    return f"use a known type of the families {', '.join(families)} (see {DOCS})"


def _example_instance(
    t: Tables, gpus: Iterable[str], count: int, need: tuple[float, float] = (0, 0)
) -> str:
    """The smallest known instance with one of `gpus`, at least `count` of them and room for
    `need` (CPU cores, memory bytes) per pod, else '-'."""
    fits = [
        (info.gpu_count, info.vcpus, name)
        for name, info in t.instance_types().items()
        if info.gpu in set(gpus)
        and info.gpu_count >= count
        and all(n <= free for n, free in zip(need, allocatable(info), strict=True))
    ]
    return min(fits)[2] if fits else "-"


def _need(spec: Spec, stage: Stage) -> tuple[float, float]:
    cpu, memory = stage.cpu or spec.run.cpu, stage.memory or spec.run.memory
    return (quantity(cpu) if cpu else 0.0, quantity(memory) if memory else 0.0)
