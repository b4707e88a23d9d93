"""A file a spec names is read inside the project only, bounded, and never a device or a FIFO."""

from __future__ import annotations

import os

import pytest

from tests.hostile.conftest import cli, with_field

SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
INSIDE = (
    "name a regular file inside the project, relative to the spec's folder (the project is "
    "the nearest folder above the spec holding .git or pyproject.toml)"
)
REGULAR = "give a regular file (not a directory, device or FIFO)"


def refused(project, relative: str, message: str, hint: str = INSIDE) -> None:
    """validate exits 1 with exactly one line: the field's position, the rule and the hint."""
    spec = project.spec(with_field("python_requirements", relative))
    done = cli("validate", str(spec))
    assert done.code == 1
    shown = f"{spec.parent / relative}"
    assert done.err == (
        f"{spec}:5:22: error: python_requirements: {shown} {message} (hint: {hint})\n"
    )
    assert "wJalrXUtnFEMI" not in done.out + done.err


@pytest.fixture
def outside(tmp_path):
    """A file beside the project holding a secret, as /etc/shadow or /proc/self/environ would."""
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\nroot:$6$salt$hash:19000:0:99999:7:::\n")
    return path


def test_a_path_leaving_the_project_is_refused_unread(project, outside):
    refused(project, "../../secret.txt", f"is outside the project {project.root}")


def test_a_symbolic_link_leaving_the_project_is_refused(project, outside):
    (project.root / "envspecs" / "reqs.txt").symlink_to(outside)
    refused(project, "reqs.txt", "is a symbolic link to a file outside the project")


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/shadow", "/dev/zero"])
def test_a_link_to_a_system_file_is_refused(project, target):
    (project.root / "envspecs" / "reqs.txt").symlink_to(target)
    refused(project, "reqs.txt", "is a symbolic link to a file outside the project")


def test_a_symbolic_link_inside_the_project_is_followed(project):
    (project.root / "requirements.txt").write_text("six==1.16.0\n")
    (project.root / "envspecs" / "reqs.txt").symlink_to("../requirements.txt")
    spec = project.spec(with_field("python_requirements", "reqs.txt"))
    done = cli("show", str(spec), "--stage", "production", "--json")
    assert done.code == 0, done.err
    assert "six==1.16.0" in done.out


def test_a_fifo_is_refused_without_blocking(project):
    os.mkfifo(project.root / "envspecs" / "reqs.txt")
    refused(project, "reqs.txt", "is a FIFO (named pipe), not a regular file", REGULAR)


def test_a_directory_is_refused(project):
    (project.root / "envspecs" / "reqs").mkdir()
    refused(project, "reqs", "is a directory, not a regular file", REGULAR)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_inside_the_project_is_refused(project):
    import stat

    os.mknod(project.root / "envspecs" / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    refused(project, "zero", "is a character device, not a regular file", REGULAR)


def test_a_file_over_one_mib_is_refused_unread(project):
    (project.root / "envspecs" / "reqs.txt").write_text("#" * (1 << 20) + "\n")
    refused(
        project,
        "reqs.txt",
        "is 1048577 bytes, more than the 1048576 bytes (1 MiB) envparity reads",
        "keep it to what this environment needs",
    )


def test_a_requirements_file_in_the_project_root_is_inside(project):
    (project.root / "requirements.txt").write_text("six==1.16.0\n")
    spec = project.spec(with_field("python_requirements", "../requirements.txt"))
    assert cli("validate", str(spec)).code == 0


def test_a_nul_in_the_name_is_a_schema_error_not_an_internal_error(project):
    done = cli("validate", str(project.spec(with_field("python_requirements", '"\\0"'))))
    assert done.code == 1
    assert "internal error" not in done.err and done.err.count("\n") == 1
    assert "python_requirements: '\\x00' is not a valid requirements file" in done.err


def test_a_spec_file_that_is_a_fifo_or_a_device_is_refused(project):
    fifo = project.root / "envspecs" / "fifo.yaml"
    os.mkfifo(fifo)
    done = cli("validate", str(fifo))
    assert (done.code, done.err) == (
        1,
        f"{fifo}: error: the spec file is a FIFO (named pipe), not a regular file "
        f"(hint: {REGULAR})\n",
    )
    done = cli("validate", "/dev/zero")
    assert done.code == 1
    assert done.err.startswith("/dev/zero: error: the spec file is a character device")


def test_a_spec_file_over_one_mib_is_refused_before_parsing(project):
    path = project.spec("description: " + "x" * (1 << 20) + "\n")
    done = cli("validate", str(path))
    assert done.code == 1
    assert done.err == (
        f"{path}: error: the spec file is 1048590 bytes, more than the 1048576 bytes (1 MiB) "
        "envparity reads (hint: keep it to what this environment needs)\n"
    )


def test_every_command_loading_the_set_refuses_the_hostile_spec_in_one_line(project, outside):
    """render loads the whole set: one hostile spec is refused there too, unread."""
    (project.root / "envspecs" / "reqs.txt").symlink_to(outside)
    spec = project.spec(with_field("python_requirements", "reqs.txt"))
    done = cli("render", str(project.root / "envspecs"), "--out", str(project.root / "build"))
    assert done.code == 1
    assert done.err.startswith(f"{spec}:5:22: error: python_requirements: ")
    assert "wJalrXUtnFEMI" not in done.out + done.err and "root:$6$" not in done.err


def test_import_reads_no_file_a_peer_names_outside_the_project(project):
    """A cog.yaml naming a link to /dev/zero: refused at once, not read until memory runs out."""
    (project.root / "models").mkdir()
    (project.root / "models" / "reqs.txt").symlink_to("/dev/zero")
    (project.root / "models" / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  python_requirements: reqs.txt\n'
        "predict: predict.py:Predictor\n"
    )
    done = cli("import", str(project.root / "models" / "cog.yaml"))
    assert done.code == 0, done.err
    assert "python_requirements" not in done.out  # the draft names no file it could not read
    assert (
        "#   requirements file reqs.txt is a symbolic link to a file outside the project\n"
        in done.out
    )
