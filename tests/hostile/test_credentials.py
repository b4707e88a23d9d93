"""No credentials in files: index URLs with a password are refused, secret-looking env values
warned about, reserved names refused; a message never repeats the credential."""

from __future__ import annotations

import pytest

from envparity.core.credentials import INDEX_CREDENTIALS_HINT
from tests.hostile.conftest import BASE, cli, with_field

TOKEN = "s3cr3t-t0ken"


def test_a_password_in_package_indexes_is_refused_and_not_repeated(project):
    spec = project.spec(with_field("package_indexes", f"[https://ci:{TOKEN}@pypi.corp/simple]"))
    done = cli("validate", str(spec))
    assert done.code == 1
    assert done.err == (
        f"{spec}:5:19: error: package_indexes[0]: the index URL https://***@pypi.corp/simple "
        "carries a user name or password: it would be written into the lock, the image and "
        f"every record made from the spec (hint: {INDEX_CREDENTIALS_HINT})\n"
    )
    assert TOKEN not in done.err + done.out


def test_an_at_sign_in_the_path_is_no_user_name(project):
    spec = project.spec(with_field("package_indexes", "[https://pypi.corp/simple/@scope]"))
    assert cli("validate", str(spec)).code == 0


@pytest.mark.parametrize("option", ["-i ", "--index-url ", "--extra-index-url="])
def test_a_password_in_a_requirements_file_index_is_refused(project, option):
    reqs = project.root / "envspecs" / "reqs.txt"
    reqs.write_text(f"six==1.16.0\n{option}https://ci:{TOKEN}@pypi.corp/simple\n")
    spec = project.spec(with_field("python_requirements", "reqs.txt"))
    done = cli("validate", str(spec))
    assert done.code == 1
    assert done.err == (
        f"{reqs}:2:1: error: python_requirements: the index URL https://***@pypi.corp/simple "
        "carries a user name or password: it would be written into the lock, the image and "
        f"every record made from the spec (hint: {INDEX_CREDENTIALS_HINT})\n"
    )


SECRETS = {
    "an AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "a GitHub token": "ghp_" + "a1B2" * 9,
    "a Hugging Face token": "hf_" + "abcDEF123" * 4,
    "a Slack token": "xoxb-1234567890-abcdefghij",
    "a private key": "-----BEGIN OPENSSH PRIVATE KEY-----",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_a_secret_looking_env_value_is_a_warning_pointing_to_secrets(project, kind):
    spec = project.spec(with_field("env", f'{{TOKEN: "{SECRETS[kind]}"}}'))
    done = cli("validate", str(spec))
    assert done.code == 0
    assert done.err == (
        f"{spec}:5:14: warning: env.TOKEN: env var TOKEN looks like it holds {kind}: env is "
        "written into the image, the manifests and reports (hint: list TOKEN under the stage's "
        "secrets: (its value then comes from the stage's secret store), and revoke the one "
        "written here)\n"
    )
    assert SECRETS[kind] not in done.err


def test_a_stage_env_value_is_checked_too(project):
    text = BASE.replace("    replicas: 2", "    replicas: 2\n    env: {KEY: AKIAIOSFODNN7EXAMPLE}")
    done = project.validate(text)
    assert done.code == 0 and "env var KEY looks like it holds an AWS access key id" in done.err


def test_ordinary_values_are_no_secrets(project):
    values = "{A: AKIA-not-a-key, B: hf_short, C: ghp_, D: https://example.org, E: xoxb}"
    assert project.validate(with_field("env", values)).err == ""


OTHER = "the stage would {} other code than the image's"
STAGE_SECRET = "    replicas: 2\n    secrets: [{name}]"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("PATH", "the image's PATH puts its virtual environment first"),
        ("HOME", "the image and `envparity run` set it"),
        (
            "LD_PRELOAD",
            "the dynamic loader reads it: the stage would load other code than the image's",
        ),
        (
            "PYTHONPATH",
            "Python finds modules by it: the stage would run other code than the image's",
        ),
        ("ENVPARITY_STAGE", "envparity sets ENVPARITY_* on every workload"),
    ],
)
def test_a_reserved_secret_name_is_refused(project, name, why):
    spec = project.spec(BASE.replace("    replicas: 2", STAGE_SECRET.format(name=name)))
    done = cli("validate", str(spec))
    assert done.code == 1
    assert done.err == (
        f"{spec}:11:15: error: stages.production.secrets[0]: secret {name} is reserved: {why} "
        "(hint: name the secret by the variable the workload reads, e.g. API_TOKEN)\n"
    )


def test_a_reserved_name_in_a_stage_env_is_refused(project):
    spec = project.spec(
        BASE.replace("    replicas: 2", "    replicas: 2\n    env: {LD_PRELOAD: x.so}")
    )
    done = cli("validate", str(spec))
    assert done.code == 1
    assert done.err == (
        f"{spec}:11:11: error: stages.production.env.LD_PRELOAD: env var LD_PRELOAD is "
        "reserved: the dynamic loader reads it: the stage would load other code than the "
        "image's (hint: rename it, or leave it to the image)\n"
    )


def test_the_baked_env_may_set_the_loader_path_but_not_path(project):
    assert project.validate(with_field("env", "{LD_LIBRARY_PATH: /usr/local/cuda/lib64}")).code == 0
    done = project.validate(with_field("env", "{PATH: /bin}"))
    assert done.code == 1
    assert (
        "env var PATH is reserved: the image's PATH puts its virtual environment first" in done.err
    )


def test_lock_refuses_an_index_url_with_credentials_whatever_the_spec_said():
    """The uv adapter writes every index URL into the lock: it checks again."""
    from envparity.adapters import uv
    from envparity.core.lockfile import LockError

    with pytest.raises(LockError) as raised:
        uv._checked_index(f"https://ci:{TOKEN}@pypi.corp/simple")
    assert raised.value.message == (
        "package_indexes: the index URL https://***@pypi.corp/simple carries a user name or "
        "password: it would be written into the lock, the image and every record made from "
        "the spec"
    )
    assert raised.value.hint == INDEX_CREDENTIALS_HINT
    assert uv._checked_index("https://pypi.corp/simple") == "https://pypi.corp/simple"
