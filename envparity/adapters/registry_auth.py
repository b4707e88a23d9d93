"""Logging in to a registry as the distribution spec and the Docker CLI do.

A call goes out with what worked before for its scope; on a 401 the registry's challenge says
how to log in: `Basic` (send the Docker config's login) or `Bearer realm=...,service=...`
(ask the realm for a token for the call's scopes, with the login when there is one, else
anonymously). Tokens are cached per registry and scopes for their lifetime. ECR hosts without
a Docker config login get one from `ecr:GetAuthorizationToken` (boto3, the `aws` extra).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass

from envparity.adapters import docker_config
from envparity.adapters.docker_config import Credentials
from envparity.adapters.registry_http import (
    Deadline,
    RegistryError,
    Response,
    Unusable,
    base_url,
    send,
)

ECR_HOST = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
)
TOKEN_CAP = 1 << 20
TOKEN_SECONDS = 60  # the spec's default when the realm names no expires_in
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
# Tokens by (registry host, scopes): (token, monotonic time it stops being used).
_TOKENS: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


class AuthRefused(RegistryError):
    """The registry refused the call: the login was refused, or it lacks the access."""


class LoginMissing(AuthRefused):
    """The registry asks for a login and none is configured for it."""


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str]

    @classmethod
    def parse(cls, header: str) -> Challenge | None:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() not in ("basic", "bearer"):
            return None
        params = {m[1].lower(): m[2] or m[3] for m in _CHALLENGE_PARAM.finditer(rest)}
        return cls(scheme.lower(), params)


class Session:
    """The logins of one registry host: its credentials (looked up once) and its tokens."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._credentials: Credentials | None = None
        self._looked_up = False
        self._basic = False  # the registry asked for Basic before

    def credentials(self, deadline: Deadline) -> Credentials | None:
        if not self._looked_up:
            self._credentials = docker_config.credentials(self.host)
            if self._credentials is None and ECR_HOST.fullmatch(self.host.split(":")[0]):
                self._credentials = ecr_credentials(self.host)
            self._looked_up = True
        return self._credentials

    def request(
        self,
        method: str,
        url: str,
        scopes: tuple[str, ...],
        deadline: Deadline,
        **kwargs,
    ) -> Response:
        """`send`, logging in when the registry answers 401; AuthRefused when that fails."""
        body = kwargs.get("body")
        authorization = self._known(scopes, deadline)
        response = send(method, url, deadline, authorization=authorization, **kwargs)
        if response.status != 401:
            return self._refused(response, scopes, deadline) if response.status == 403 else response
        challenge = Challenge.parse(response.header("WWW-Authenticate"))
        response.close()
        if challenge is None:
            raise self._refusal(scopes, "401 with no challenge envparity can answer", deadline)
        if hasattr(body, "seek"):
            body.seek(0)  # a spooled blob goes again
        if challenge.scheme == "basic":
            login = self.credentials(deadline)
            if login is None or not login.username:
                raise self._refusal(scopes, "it asks for a login", deadline)
            self._basic, authorization = True, login.basic()
        else:
            asked = challenge.params.get("scope")
            wanted = scopes if not asked or asked in scopes else (*scopes, asked)
            authorization = "Bearer " + self._token(challenge.params, wanted, scopes, deadline)
        response = send(method, url, deadline, authorization=authorization, **kwargs)
        if response.status in (401, 403):
            return self._refused(response, scopes, deadline)
        return response

    def _known(self, scopes: tuple[str, ...], deadline: Deadline) -> str | None:
        if self._basic:
            login = self.credentials(deadline)
            return login.basic() if login else None
        with _TOKENS_LOCK:
            token, until = _TOKENS.get((self.host, scopes), ("", 0.0))
        return f"Bearer {token}" if token and until > time.monotonic() else None

    def _token(
        self, params: dict[str, str], scopes: tuple[str, ...], key: tuple[str, ...], deadline
    ) -> str:
        """A token for `scopes` from the challenge's realm, cached under the caller's `key`."""
        realm = params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise Unusable(
                f"registry {self.host} names no token realm URL ({realm!r})",
                "check the registry's auth configuration",
            )
        login = self.credentials(deadline)
        query = [("service", params["service"])] if params.get("service") else []
        query += [("scope", scope) for scope in scopes]
        if login is not None and login.identity_token:
            form = urllib.parse.urlencode(
                [
                    *query,
                    ("grant_type", "refresh_token"),
                    ("client_id", "envparity"),
                    ("refresh_token", login.identity_token),
                ]
            ).encode()
            response = send(
                "POST",
                realm,
                deadline,
                body=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        else:
            separator = "&" if "?" in realm else "?"
            response = send(
                "GET",
                f"{realm}{separator}{urllib.parse.urlencode(query)}",
                deadline,
                authorization=login.basic() if login and login.username else None,
            )
        with response:
            body = response.read(TOKEN_CAP, f"the token from {realm}")
        if response.status in (401, 403):
            who = f"the login from {login.source}" if login else "an anonymous caller"
            raise AuthRefused(
                f"token realm {realm} of registry {self.host} refused {who} "
                f"for {' '.join(scopes)} ({response.status})",
                self.login_hint(),
            )
        try:
            answer = json.loads(body)
            token = answer.get("token") or answer.get("access_token")
            lifetime = float(answer.get("expires_in") or TOKEN_SECONDS)
            if response.status != 200 or not isinstance(token, str) or not token:
                raise ValueError
        except (ValueError, TypeError, AttributeError):
            raise Unusable(
                f"token realm {realm} of registry {self.host} answered {response.status} "
                "without a token",
                "check the registry's auth service",
            ) from None
        with _TOKENS_LOCK:  # a little early, so a token never expires in flight
            _TOKENS[(self.host, key)] = (token, time.monotonic() + lifetime * 0.9)
        return token

    def _refused(self, response: Response, scopes: tuple[str, ...], deadline: Deadline):
        with response:
            detail = error_detail(response)
        raise self._refusal(scopes, f"{response.status}{f': {detail}' if detail else ''}", deadline)

    def _refusal(self, scopes: tuple[str, ...], why: str, deadline: Deadline) -> AuthRefused:
        login = self.credentials(deadline)
        who = f"the login from {login.source}" if login else "anonymous access (no login found)"
        return (AuthRefused if login else LoginMissing)(
            f"registry {self.host} refused {who} for {' '.join(scopes)} ({why})",
            self.login_hint(),
        )

    def login_hint(self) -> str:
        if ECR_HOST.fullmatch(self.host.split(":")[0]):
            return (
                "give AWS credentials allowed ecr:GetAuthorizationToken and the repository's "
                "actions, or set credHelpers to ecr-login (docker-credential-ecr-login) in "
                f"{docker_config.config_path()}"
            )
        return (
            f"run `docker login {self.host}` with a user allowed these actions "
            f"(envparity reads {docker_config.config_path()})"
        )


def error_detail(response: Response) -> str:
    """The registry's `errors` list of an error answer, as one short line ('' if none)."""
    try:
        errors = json.loads(response.read(64 << 10, "an error answer") or b"{}").get("errors")
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors or ())[:300]
    except (RegistryError, ValueError, AttributeError, TypeError):
        return ""


def ecr_credentials(host: str) -> Credentials:
    """A 12-hour ECR login from `ecr:GetAuthorizationToken` (AWS_ENDPOINT_URL is honoured)."""
    match = ECR_HOST.fullmatch(host.split(":")[0])
    assert match is not None
    hint = (
        "configure AWS credentials allowed ecr:GetAuthorizationToken, or set credHelpers to "
        f"ecr-login (docker-credential-ecr-login) in {docker_config.config_path()}"
    )
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise RegistryError(
            f"registry {host} is ECR and no Docker login for it was found",
            f"pip install 'envparity[aws]' for ECR logins, or {hint.split(', or ')[1]}",
        ) from None
    try:
        bounded = Config(connect_timeout=10, read_timeout=20, retries={"max_attempts": 2})
        client = boto3.client("ecr", region_name=match["region"], config=bounded)
        data = client.get_authorization_token(registryIds=[match["account"]])
        token = data["authorizationData"][0]["authorizationToken"]
        username, _, password = base64.b64decode(token).decode().partition(":")
    except (BotoCoreError, ClientError) as exc:
        raise AuthRefused(f"ECR login for {host} failed: {exc}", hint) from None
    except (KeyError, IndexError, ValueError):
        raise Unusable(f"ECR answered no authorization token for {host}", hint) from None
    return Credentials(username, password, None, "ecr:GetAuthorizationToken")


def registry_url(host: str) -> str:
    """The registry's base URL (`docker.io` is served at registry-1.docker.io)."""
    return base_url("registry-1.docker.io" if host in docker_config.HUB_HOSTS else host)
