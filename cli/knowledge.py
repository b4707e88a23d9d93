"""`envparity knowledge`: refresh the team's knowledge snapshot from the sources, show it."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from envparity.cli.common import UNCHECKED, console, fail, print_json

app = typer.Typer(
    help="The compatibility knowledge: which snapshot is in use, and refreshing it.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _option(default: str, env: str, what: str):
    return typer.Option(
        os.environ.get(env, default), help=f"{what} [env: {env}]", show_default=True
    )


@app.command()
def refresh(
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write the snapshot; default .envparity/knowledge.json in the "
        "repository (the nearest directory above with .git, else the working directory).",
    ),
    torch_index: str = _option(
        "https://download.pytorch.org/whl",
        "ENVPARITY_TORCH_INDEX",
        "PyTorch's simple index; <URL>/<project>/ lists every build's wheels.",
    ),
    pypi_index: str = _option(
        "https://pypi.org/simple", "ENVPARITY_PYPI_INDEX", "PyPI's simple index (default builds)."
    ),
    registry: str = _option(
        "https://registry-1.docker.io",
        "ENVPARITY_REGISTRY",
        "OCI registry holding the CUDA and Python images.",
    ),
    cuda_repository: str = _option(
        "nvidia/cuda", "ENVPARITY_CUDA_REPOSITORY", "Repository of the CUDA images."
    ),
    python_repository: str = _option(
        "library/python", "ENVPARITY_PYTHON_REPOSITORY", "Repository of the Python images."
    ),
    ec2_region: str = _option(
        "us-east-1",
        "ENVPARITY_EC2_REGION",
        "Region asked for EC2 instance types (AWS_ENDPOINT_URL is honoured; needs the aws extra).",
    ),
    skip: list[str] = typer.Option(
        [],
        "--skip",
        help="Leave out a source: torch, pypi, cuda-images, python-images or ec2.",
    ),
) -> None:
    """Read the primary sources and write the team's knowledge snapshot.

    The snapshot holds what these sources say today (wheels of torch, torchvision and
    torchaudio per build and Python, nvidia/cuda and python image tags, EC2 instance
    types) plus the curated CUDA->driver and GPU tables. `validate` prefers it over the
    packaged snapshot; commit it so every machine of the team judges alike.
    Exit 0 when written, 3 when a source could not be read (nothing is written).
    """
    from envparity.adapters.knowledge_refresh import (
        Source,
        SourceError,
        load_curated,
        snapshot,
        write,
    )

    wanted = {
        "torch": Source("torch-index", "wheel-index", torch_index),
        "pypi": Source("pypi", "pypi", pypi_index),
        "cuda-images": Source("cuda-images", "registry", registry, repository=cuda_repository),
        "python-images": Source(
            "python-images", "registry", registry, repository=python_repository
        ),
        "ec2": Source("ec2", "ec2", os.environ.get("AWS_ENDPOINT_URL", "aws"), ec2_region),
    }
    unknown = sorted(set(skip) - set(wanted))
    if unknown:
        fail(f"--skip {unknown[0]} is not a source", f"use one of {', '.join(wanted)}")
    sources = [source for name, source in wanted.items() if name not in skip]
    try:
        document = snapshot(sources, load_curated())
    except SourceError as exc:
        fail(str(exc), "check the URL or the network; override it with its option", UNCHECKED)
    target = output or _repository_root() / ".envparity" / "knowledge.json"
    write(document, target)
    counts = {
        "wheels": len(document["wheels"]),
        **{f"{repo} tags": len(rows) for repo, rows in document["images"].items()},
        "instance types": len(document["instance_types"]),
    }
    console().print(f"wrote {target}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


def _repository_root() -> Path:
    here = Path.cwd().resolve()
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), here)


@app.command()
def show(
    json_out: bool = typer.Option(False, "--json", help="Print JSON for machines instead of text."),
) -> None:
    """Say which knowledge snapshot is in use, how old it is, its sources and entry counts."""
    from envparity.core import knowledge

    path, kind = knowledge.locate()
    k = knowledge.find()
    sources = {key: k.sources[key] for key in sorted(k.sources)}
    per_source: dict[str, int] = {}
    lists = [v for v in k.data.values() if isinstance(v, list)]
    for rows in (*lists, *k.data["images"].values()):
        for row in rows:
            for source in row["sources"]:
                per_source[source] = per_source.get(source, 0) + 1
    info = {
        "path": str(path),
        "kind": kind,
        "generated": k.generated,
        "age_days": k.age_days(),
        "counts": k.counts(),
        "sources": {
            key: {**value, "entries": per_source.get(key, 0)} for key, value in sources.items()
        },
    }
    if json_out:
        print_json(info)
        return
    from rich.table import Table

    out = console()
    out.print(f"snapshot: {path} ({kind}), generated {k.generated}, {info['age_days']} days old")
    out.print(", ".join(f"{n} {what}" for what, n in info["counts"].items()))
    table = Table("source", "entries", "read", "url / copy of")
    for key, value in info["sources"].items():
        where = value.get("copy_of") or value.get("url", "")
        table.add_row(key, str(value["entries"]), value.get("read", ""), where)
    out.print(table)
