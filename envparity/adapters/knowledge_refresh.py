"""The generator: read the primary sources over HTTP and write a knowledge snapshot.

Readers speak the sources' own protocols: the simple repository API of a Python package
index (PEP 691 JSON, else PEP 503 HTML), the OCI distribution tag list (bearer-token
challenge, `Link` pagination) and EC2 `DescribeInstanceTypes` (boto3, honours
AWS_ENDPOINT_URL). What has no machine-readable source (CUDA -> driver, compute
capabilities, ...) comes from `curated.json` beside this module. Every entry names the
sources it was read from; docs/compatibility.md describes the format.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from envparity.core.knowledge import FORMAT, PACKAGED, version_key
from envparity.core.render.files import write_atomic

CURATED = PACKAGED.with_name("curated.json")
PROJECTS = ("torch", "torchvision", "torchaudio")
TORCH_FLOOR = Version("2.0")
TIMEOUT = 30
SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_BUILD = re.compile(r"^(cpu|cu\d{3})$")
FLAVORS = ("base", "runtime", "devel", "cudnn-runtime", "cudnn-devel")


class SourceError(Exception):
    """A source that could not be read; the message names it and says why."""


@dataclass(frozen=True)
class Source:
    """One place facts are read from: `kind` says which reader, `url` where."""

    id: str
    kind: str  # "wheel-index", "pypi", "registry", "ec2", "wheels-file"
    url: str
    repository: str = ""  # registry: the image repository; ec2: the region
    copy_of: str | None = None  # the primary source this is a copy of, when it is one
    note: str = ""
    # registry: the flavours (FLAVORS, cuDNN markers folded into "cudnn-") this source lists
    # in full for each (CUDA release, OS) it names; a registry's own tag list lists them all
    complete_flavors: str = ".*"


@dataclass
class Readings:
    wheels: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # image -> tag -> ids
    # image -> (cuda, os) -> flavour -> ids of the sources that list that flavour in full
    lists: dict[str, dict[tuple[str, str], dict[str, set[str]]]] = field(default_factory=dict)
    companions: dict[str, dict[str, Any]] = field(default_factory=dict)  # torch -> row
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- HTTP ------------------------------------------------------------------------------
def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "envparity", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"{url}: cannot connect ({reason})") from None


# --- Simple repository API (PEP 503 / PEP 691) ------------------------------------------
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def read_simple_index(base: str, project: str) -> list[str]:
    """The file URLs (absolute) that index `base` lists for `project`."""
    url = f"{base.rstrip('/')}/{project}/"
    status, headers, body = _get(url, {"Accept": SIMPLE_ACCEPT})
    if status == 404:
        return []
    if status != 200:
        raise SourceError(f"{url}: HTTP {status}")
    kind = (headers.get("Content-Type") or "").split(";")[0].strip()
    if kind.endswith("+json") or kind == "application/json":
        files = json.loads(body).get("files", [])
        hrefs = [f["url"] for f in files if isinstance(f, dict) and "url" in f]
    else:
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        hrefs = parser.hrefs
    return [urllib.parse.urljoin(url, href.split("#", 1)[0]) for href in hrefs]


def _arch(platform: str) -> str | None:
    if not (platform.startswith("manylinux") or platform.startswith("linux")):
        return None
    for arch in ("x86_64", "aarch64"):
        if platform.endswith(arch):
            return arch
    return None


def wheel_rows(urls: Iterable[str], source: Source, *, pypi: bool) -> Iterator[dict[str, Any]]:
    """One row per (project, version, build) with the Linux CPython tags and arches found."""
    grouped: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
    for url in urls:
        path = urllib.parse.urlparse(url).path
        filename = urllib.parse.unquote(path.rsplit("/", 1)[-1])
        if not filename.endswith(".whl"):
            continue
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        if name not in PROJECTS or version.is_prerelease or version.is_devrelease:
            continue
        if name == "torch" and version < TORCH_FLOOR:
            continue
        if pypi:
            if version.local:
                continue
            build = "pypi"
        else:
            folder = path.rsplit("/", 2)[-2] if path.count("/") >= 2 else ""
            build = folder if _BUILD.match(folder) else (version.local or "")
            if not _BUILD.match(build) or (version.local and version.local != build):
                continue  # rocm, xpu, cxx11 abi, pypi-cudnn variants: not judged here
        pythons, arches = grouped.setdefault((name, version.public, build), (set(), set()))
        for tag in tags:
            arch = _arch(tag.platform)
            if arch is None or not tag.abi.startswith("cp"):
                continue
            pythons.add(tag.abi)
            arches.add(arch)
    for (name, public, build), (pythons, arches) in grouped.items():
        if pythons:
            yield {
                "project": name,
                "version": public,
                "build": build,
                "pythons": sorted(pythons, key=_python_key),
                "arches": sorted(arches),
                "sources": [source.id],
            }


def _python_key(tag: str) -> tuple[int, str]:
    digits = re.match(r"cp3(\d+)", tag)
    return (int(digits.group(1)) if digits else 0, tag)


# --- OCI distribution tag list ------------------------------------------------------------
def _bearer_token(challenge: str) -> str:
    """Answer a `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = params.pop("realm", None)
    if not realm:
        raise SourceError(f"registry challenge without a realm: {challenge!r}")
    url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
    status, _headers, body = _get(url)
    if status != 200:
        raise SourceError(f"{realm}: token request answered HTTP {status}")
    answer = json.loads(body)
    token = answer.get("token") or answer.get("access_token")
    if not token:
        raise SourceError(f"{realm}: token answer holds no token")
    return token


def read_tags(registry: str, repository: str, page_size: int = 1000) -> list[str]:
    """Every tag of `repository`, following `Link: <...>; rel="next"` pages."""
    url = f"{registry.rstrip('/')}/v2/{repository}/tags/list?n={page_size}"
    headers: dict[str, str] = {}
    tags: list[str] = []
    while url:
        status, answer_headers, body = _get(url, headers)
        if status == 401 and "Authorization" not in headers:
            challenge = answer_headers.get("WWW-Authenticate", "")
            if not challenge.lower().startswith("bearer"):
                raise SourceError(f"{url}: HTTP 401 without a bearer challenge")
            headers["Authorization"] = f"Bearer {_bearer_token(challenge)}"
            continue
        if status != 200:
            raise SourceError(f"{url}: HTTP {status}")
        tags.extend(json.loads(body).get("tags") or [])
        found = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', answer_headers.get("Link", ""))
        url = urllib.parse.urljoin(url, found.group(1)) if found else ""
    return tags


_CUDA_TAG = re.compile(
    r"^(?P<cuda>\d+\.\d+\.\d+)-(?:(?P<cudnn>cudnn\d*)-)?(?P<flavor>base|runtime|devel)"
    r"-(?P<os>ubuntu(?:20|22|24)\.04)$"
)
_PYTHON_TAG = re.compile(r"^\d+\.\d+\.\d+-slim-[a-z]+$")


def image_of(tag: str) -> str | None:
    """Which image list a tag belongs to: 'nvidia/cuda' (CUDA >= 11.0 on Ubuntu
    20.04/22.04/24.04), 'python' (X.Y.Z-slim-<debian>), or None (not kept)."""
    if _PYTHON_TAG.match(tag):
        return "python"
    found = _CUDA_TAG.match(tag)
    return "nvidia/cuda" if found and version_key(found["cuda"]) >= (11, 0) else None


# --- EC2 --------------------------------------------------------------------------------
def read_instances(region: str, families: set[str], gpu_names: list[dict]) -> list[dict]:
    """DescribeInstanceTypes rows of `families`, in the snapshot's shape."""
    try:
        import boto3
    except ImportError:
        raise SourceError(
            "reading EC2 instance types needs boto3: pip install 'envparity[aws]'"
        ) from None
    client = boto3.client("ec2", region_name=region)
    rows = []
    try:
        for page in client.get_paginator("describe_instance_types").paginate():
            for item in page["InstanceTypes"]:
                if item["InstanceType"].split(".", 1)[0] in families:
                    rows.append(_instance_row(item, gpu_names))
    except Exception as exc:  # botocore's errors: no credentials, endpoint down, throttled
        raise SourceError(f"EC2 DescribeInstanceTypes in {region}: {exc}") from None
    return [r for r in rows if r is not None]


def _instance_row(item: dict, gpu_names: list[dict]) -> dict | None:
    arches = item.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
    network = item.get("NetworkInfo", {})
    enis = network.get("MaximumNetworkInterfaces", 1)
    ips = network.get("Ipv4AddressesPerInterface", 1)
    row = {
        "name": item["InstanceType"],
        "vcpus": item["VCpuInfo"]["DefaultVCpus"],
        "memory_mib": item["MemoryInfo"]["SizeInMiB"],
        "arch": "arm64" if "arm64" in arches else "x86_64",
        "max_pods": enis * (ips - 1) + 2,
        "gpu": None,
        "gpu_count": 0,
    }
    gpus = item.get("GpuInfo", {}).get("Gpus", [])
    if gpus:
        gpu = gpus[0]
        memory = gpu.get("MemoryInfo", {}).get("SizeInMiB", 0)
        product = _product(gpu.get("Name", ""), memory, gpu_names)
        if product is None or gpu.get("Count", 0) < 1:
            return None  # a GPU the snapshot has no facts for, or a fraction of one
        row.update(gpu=product, gpu_count=gpu["Count"], gpu_memory_mib=memory)
    return row


def _product(aws_name: str, memory_mib: int, gpu_names: list[dict]) -> str | None:
    for rule in gpu_names:
        if rule["aws_name"] == aws_name and rule.get("min_mib", 0) <= memory_mib <= rule.get(
            "max_mib", 1 << 40
        ):
            return rule["product"]
    return None


# --- The snapshot --------------------------------------------------------------------------
def read(sources: Iterable[Source], curated: dict) -> Readings:
    """Read every source; entries seen in several sources list them all."""
    readings = Readings()
    families = set(curated["instance_families"])
    for source in sources:
        if source.kind in ("wheel-index", "pypi"):
            rows = [
                row
                for project in PROJECTS
                for row in wheel_rows(
                    read_simple_index(source.url, project), source, pypi=source.kind == "pypi"
                )
            ]
            _merge_wheels(readings, rows)
        elif source.kind == "wheels-file":
            data = json.loads(Path(source.url).read_text(encoding="utf-8"))
            _merge_wheels(readings, [{**row, "sources": [source.id]} for row in data["wheels"]])
            _merge_companions(readings, data.get("companions", []), source)
        elif source.kind == "registry":
            for tag in read_tags(source.url, source.repository):
                image = image_of(tag)
                if image:
                    readings.tags.setdefault(image, {}).setdefault(tag, set()).add(source.id)
                    _note_list(readings, image, tag, source)
        elif source.kind == "ec2":
            for row in read_instances(source.repository, families, curated["aws_gpu_names"]):
                old = readings.instances.get(row["name"])
                row["sources"] = sorted({source.id, *(old or {}).get("sources", [])})
                readings.instances[row["name"]] = row
        else:
            raise SourceError(f"unknown source kind {source.kind!r}")
    return readings


def _note_list(readings: Readings, image: str, tag: str, source: Source) -> None:
    """Record that `source` lists its `complete_flavors` in full for the tag's CUDA and OS."""
    found = _CUDA_TAG.match(tag)
    if image != "nvidia/cuda" or not found:
        return
    full = [f for f in FLAVORS if re.fullmatch(source.complete_flavors, f)]
    pair = readings.lists.setdefault(image, {}).setdefault((found["cuda"], found["os"]), {})
    for flavor in full:
        pair.setdefault(flavor, set()).add(source.id)


def _merge_companions(readings: Readings, rows: Iterable[dict], source: Source) -> None:
    """torch release -> the torchvision/torchaudio released with it; sources that disagree
    are a data error."""
    for row in rows:
        old = readings.companions.setdefault(row["torch"], {**row, "sources": []})
        for project in ("torchvision", "torchaudio"):
            if old.get(project) != row.get(project):
                raise SourceError(
                    f"{source.id}: torch {row['torch']} goes with {project} {row.get(project)}, "
                    f"another source says {old.get(project)}"
                )
        old["sources"] = sorted({*old["sources"], source.id})


def _image_lists(readings: Readings) -> dict[str, list[dict[str, Any]]]:
    """Per image, the (CUDA release, OS) pairs whose tag list is complete for some flavours:
    a tag of such a flavour that is not in the snapshot does not exist."""
    out: dict[str, list[dict[str, Any]]] = {}
    for image, pairs in readings.lists.items():
        rows = [
            {
                "cuda": cuda,
                "os": os_,
                "complete": [f for f in FLAVORS if f in flavors],
                "sources": sorted({s for ids in flavors.values() for s in ids}),
            }
            for (cuda, os_), flavors in pairs.items()
            if flavors
        ]
        out[image] = sorted(rows, key=lambda r: (version_key(r["cuda"]), r["os"]))
    return dict(sorted(out.items()))


def _release_completeness(wheels: list[dict]) -> None:
    """A release's builds are all known when one source lists them in full (the index page,
    or a copy of it): every row of that release then says so."""
    complete: dict[tuple[str, str], bool] = {}
    for row in wheels:
        key = (row["project"], row["version"])
        complete[key] = complete.get(key, False) or row.get("complete", True)
    for row in wheels:
        row["complete"] = complete[(row["project"], row["version"])]


def _merge_wheels(readings: Readings, rows: Iterable[dict]) -> None:
    for row in rows:
        key = (row["project"], row["version"], row["build"])
        old = readings.wheels.get(key)
        if old is None:
            readings.wheels[key] = dict(row)
            continue
        old["sources"] = sorted({*old["sources"], *row["sources"]})
        old["complete"] = old.get("complete", True) or row.get("complete", True)
        if old.get("pythons_from") is None or row.get("pythons_from") is None:
            old.pop("pythons_from", None)
        for part in ("pythons", "arches"):
            if old.get(part) is not None and row.get(part) is not None:
                old[part] = sorted({*old[part], *row[part]}, key=_python_key)
            else:
                old[part] = old.get(part) or row.get(part)


def snapshot(sources: list[Source], curated: dict, today: date | None = None) -> dict:
    """The snapshot document: curated facts plus everything read from `sources`."""
    readings = read(sources, curated)
    read_on = (today or date.today()).isoformat()
    described = dict(curated["sources"])
    for source in sources:
        described[source.id] = {
            "url": source.url if source.kind != "wheels-file" else Path(source.url).name,
            "read": read_on,
            **({"copy_of": source.copy_of} if source.copy_of else {}),
            **({"title": source.note} if source.note else {}),
        }
    instances = dict(readings.instances)
    for extra in curated.get("instance_extras", []):
        instances.setdefault(extra["name"], extra)
    images = {
        repo: [{"tag": tag, "sources": sorted(ids)} for tag, ids in sorted(found.items())]
        for repo, found in readings.tags.items()
    }
    images.setdefault("nvidia/cuda", [])
    curated_keys = (
        "cuda_drivers",
        "cuda_minor_compat",
        "gpus",
        "arch_support",
        "eks_gpu_ami_types",
        "jax_cuda_extras",
        "cudnn_markers",
        "torch_build_arches",
        "torch_pypi_default",
        "aws_gpu_names",
    )
    wheels = sorted(
        readings.wheels.values(),
        key=lambda r: (r["project"], version_key(r["version"]), r["build"]),
    )
    _release_completeness(wheels)
    image_lists = _image_lists(readings)
    companions = [readings.companions[v] for v in sorted(readings.companions, key=version_key)]
    entries = [
        *(row for key in curated_keys for row in curated[key]),
        *wheels,
        *instances.values(),
        *(row for rows in images.values() for row in rows),
        *(row for rows in image_lists.values() for row in rows),
        *companions,
    ]
    cited = {source for row in entries for source in row["sources"]}
    return {
        "format": FORMAT,
        "generated": read_on,
        "sources": {k: v for k, v in sorted(described.items()) if k in cited},
        **{key: curated[key] for key in curated_keys},
        "images": dict(sorted(images.items())),
        "image_lists": image_lists,
        "wheels": wheels,
        "torch_companions": companions,
        "instance_types": sorted(instances.values(), key=lambda r: r["name"]),
    }


def load_curated() -> dict:
    return json.loads(CURATED.read_text(encoding="utf-8"))


def write(document: dict, path: Path) -> None:
    """Write `document` as sorted, indented JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
