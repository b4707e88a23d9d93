"""Rendering the Pulumi stack configs (`stacks/Pulumi.<stage>.yaml`) from the specs.

One file per stage. `envparity:specs` (which specs the stage deploys) is generated from
the specs; the recorded images (`envparity.core.ledger`) and the stack settings a user set
(`envparity.core.stack_settings`) are kept, and so is any other key (`aws:profile`,
`secure:` values, and Pulumi's top-level `encryptionsalt`, `secretsprovider`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from envparity.core.ledger import (
    IMAGES,
    dump,
    read_stack_file,
    stack_config_path,
    strings,
    update_stack_config,
)
from envparity.core.model import STAGES, Spec
from envparity.core.stack_settings import SPECS, default_settings


def stack_config(
    stage: str, specs: Iterable[Spec], existing: Mapping[str, Any], root: Path
) -> dict:
    """The config map of stage `stage` on top of `existing` (whose settings and images are kept).

    `envparity:specs` lists exactly the given specs (the environment set) that declare the
    stage, relative to the project root `root`: what was listed before is replaced, so a
    spec removed from the set disappears. ProjectError for a spec outside `root`.
    """
    from envparity.core.project import relative

    config = {**default_settings(stage), **existing}
    config[SPECS] = sorted({relative(spec.source, root) for spec in specs if stage in spec.stages})
    config[IMAGES] = sorted(set(strings(config.get(IMAGES))))
    return config


def render_stack_configs(specs: list[Spec], stacks_dir: Path, *, check: bool = False) -> list[Path]:
    """Write (or with `check`, only list) the stack configs of the set `specs` that are missing
    or stale.

    A stage gets a file when a spec declares it or the file exists. Returns the paths
    written (or stale). Writes go through `update_stack_config` (locked, atomic, keeping the
    file's mode and Pulumi's keys); unchanged files are not touched.
    """
    root = stacks_dir.parent
    changed = []
    for stage in STAGES:
        path = stack_config_path(stacks_dir, stage)
        if not path.exists() and not any(stage in spec.stages for spec in specs):
            continue

        def render(config: dict[str, Any], stage: str = stage) -> dict[str, Any]:
            return stack_config(stage, specs, config, root)

        if check:
            current, document = read_stack_file(path)
            stale = dump(stage, render(document["config"]), document) != current
        else:
            stale = update_stack_config(path, stage, render, create=True)
        if stale:
            changed.append(path)
    return changed
