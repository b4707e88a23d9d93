"""Registry credentials where the Docker CLI keeps them (`docker login` writes them there).

`$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`): `credHelpers[host]` first, then
`credsStore`, then `auths[host]` (base64 `auth`, or `username`/`password`; `identitytoken`).
A helper is run as the Docker CLI runs it: `docker-credential-<name> get` with the registry
host on stdin, JSON `{"Username", "Secret"}` on stdout; bounded in time and output here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from envparity.adapters.registry_http import RegistryError

HELPER_TIMEOUT = 30.0
HELPER_OUTPUT_CAP = 1 << 20
CONFIG_CAP = 16 << 20
DOCKER_HUB = "https://index.docker.io/v1/"
HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    """A login for one registry: username and password, or an identity (refresh) token."""

    username: str
    password: str
    identity_token: str | None = None
    source: str = ""  # where they came from, for error messages

    def basic(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    return Path(directory) / "config.json"


def _load() -> dict:
    path = config_path()
    try:
        with path.open("rb") as handle:
            text = handle.read(CONFIG_CAP + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc}", "fix its permissions") from None
    try:
        if len(text) > CONFIG_CAP:
            raise ValueError("larger than 16 MiB")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise RegistryError(
            f"{path} is not a Docker config ({exc})", "fix it, or run `docker login` again"
        ) from None
    return data


def _key(server: str) -> str:
    """A config key or server URL as a bare host[:port] (`https://h/v1/` -> `h`)."""
    host = server.split("://", 1)[-1].split("/", 1)[0]
    return "index.docker.io" if host in HUB_HOSTS else host


def credentials(host: str) -> Credentials | None:
    """The login the Docker config holds for registry `host` (host[:port]); None without one."""
    config = _load()
    key = _key(host)
    server = DOCKER_HUB if key == "index.docker.io" else host
    helpers = {_key(k): v for k, v in (config.get("credHelpers") or {}).items()}
    if key in helpers:
        return run_helper(str(helpers[key]), server)
    store = config.get("credsStore")
    if store:
        found = run_helper(str(store), server)
        if found is not None:
            return found
    for name, entry in (config.get("auths") or {}).items():
        if _key(name) == key and isinstance(entry, dict):
            return _from_auths(entry, name)
    return None


def _from_auths(entry: dict, name: str) -> Credentials | None:
    source = f"{config_path()} auths[{name!r}]"
    username, password = entry.get("username") or "", entry.get("password") or ""
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryError(
                f"{source}: `auth` is not base64 of user:password",
                f"run `docker login {_key(name)}` again",
            ) from None
        username, _, password = decoded.partition(":")
    token = entry.get("identitytoken") or None
    if not (username or token):
        return None
    return Credentials(username, password, token, source)


def run_helper(name: str, server: str) -> Credentials | None:
    """`docker-credential-<name> get` for `server`; None when it has no login for it."""
    program = f"docker-credential-{name}"
    path = shutil.which(program)
    if path is None:
        raise RegistryError(
            f"{config_path()} names the credential helper {name!r}, but {program} is not on PATH",
            f"install {program}, or remove it from {config_path()}",
        )
    process = subprocess.Popen(
        [path, "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    timer = threading.Timer(HELPER_TIMEOUT, process.kill)
    timer.start()
    try:
        try:
            process.stdin.write(server.encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        output = process.stdout.read(HELPER_OUTPUT_CAP + 1)
        if len(output) > HELPER_OUTPUT_CAP:
            process.kill()
        code = process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
    text = output[:300].decode(errors="replace").strip()
    if code != 0:
        if "credentials not found" in text.lower():
            return None
        why = "timed out" if code < 0 and not output else f"exit {code}: {text or '(no output)'}"
        raise RegistryError(
            f"credential helper {program} failed for {server} ({why})",
            f"run `docker login {_key(server)}` (or check the helper's own setup)",
        )
    try:
        answer = json.loads(output)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(
            f"credential helper {program} answered no JSON login for {server}",
            'check the helper (it must print {"Username": ..., "Secret": ...})',
        ) from None
    source = f"credential helper {program}"
    if username == "<token>":  # the CLI's convention for an identity token
        return Credentials("", "", secret, source)
    return Credentials(username, secret, None, source)
