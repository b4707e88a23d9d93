"""pip's reading of a requirements file, where a mutant of ours would read it otherwise."""

from __future__ import annotations

import pytest

from envparity.core import requirements_file
from envparity.core.spec import load_spec
from tests.spec.conftest import CPU_SPEC, write

A, B = "a" * 64, "b" * 64


def parse(text: str):
    return requirements_file.parse(text, "reqs.txt", [])


def test_the_last_index_url_wins_as_in_pip():
    content, problems = parse(
        "-i https://first.example/simple\nsix==1.16.0\n--index-url https://last.example/simple\n"
    )
    assert problems == [] and content.index_url == "https://last.example/simple"


@pytest.mark.parametrize(
    "value",
    [
        f"sha256:{A[:-1]}",  # one digit short
        f"sha256:{A}a",  # one digit long
        f"sha256:{A.upper()}",  # pip hash prints lower case
        f"sha384:{'a' * 96}",  # pip takes it, the lock's sha256 never matches it
        f"sha512:{'a' * 128}",
        "md5:" + "a" * 32,
    ],
)
def test_only_a_full_sha256_hash_is_taken(value):
    content, [problem] = parse(f"six==1.16.0 --hash={value}\n")
    assert content is None
    assert (problem.line, problem.column) == (1, 13)
    assert problem.message == (
        f"'--hash={value}' is not a sha256 --hash: envparity's lock checks each file by its "
        "sha256, 64 lower-case hex digits"
    )


def test_the_order_of_hashes_is_not_content(tmp_path):
    def fingerprint(line: str) -> str:
        (tmp_path / "reqs.txt").write_text(line + "\n")
        text = CPU_SPEC.replace(
            "python_packages: [flask==3.0.3]",
            "python_packages: [flask==3.0.3]\npython_requirements: reqs.txt",
        )
        spec = load_spec(write(tmp_path, text))
        assert dict(spec.software.python_requirements.hashes)["six==1.16.0"] == (
            f"sha256:{A}",
            f"sha256:{B}",
        )
        return spec.fingerprint

    one = fingerprint(f"six==1.16.0 --hash=sha256:{A} --hash=sha256:{B}")
    assert fingerprint(f"six==1.16.0 --hash=sha256:{B} --hash=sha256:{A}") == one
    assert fingerprint(f"six==1.16.0 --hash=sha256:{B} \\\n  --hash=sha256:{A}") == one


def test_a_line_over_the_cap_is_refused_without_quoting_it():
    content, [problem] = parse("six==1.16.0 " + "a" * 5000 + "\n")
    assert content is None
    assert problem.message == "the line is 5012 characters long, more than 4096"
