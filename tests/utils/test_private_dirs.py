"""Private directories and files against someone who got there first: a folder made in advance (another
user's, or open to everyone), a symlink, a planted file.  Each is refused by name and nothing is written into
it or read from it.  The wrong-owner cases need root (to give a folder to another uid); CI runs as root."""

import os
import stat

import pytest

from graphflow.errors import UnsafePathError
from graphflow.utils.private_dirs import (
    check_private_dir,
    create_private_dir,
    create_private_file,
    make_private_dir,
    open_private_file,
)
from graphflow.utils.processes import remove_stale_dirs

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another uid (os.chown) needs root")


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def attacker_dir(path, owner=None):
    """A folder anyone may write, as an attacker would leave it (owned by ``owner`` if given)."""
    os.mkdir(path)
    os.chmod(path, 0o777)
    if owner is not None:
        os.chown(path, owner, owner)
    return str(path)


def test_a_fresh_private_dir_has_a_random_name_mode_0700_and_is_ours(tmp_path):
    a = make_private_dir(str(tmp_path), "gf-x-")
    b = make_private_dir(str(tmp_path), "gf-x-")
    assert a != b and os.path.dirname(a) == str(tmp_path)
    for d in (a, b):
        name = os.path.basename(d)
        assert name.startswith("gf-x-") and len(name) == len("gf-x-") + 16
        int(name[len("gf-x-"):], 16)  # 64 random bits, hex
        st = os.lstat(d)
        assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and mode(d) == 0o700


def test_an_existing_folder_is_never_adopted(tmp_path):
    squat = attacker_dir(tmp_path / "squat")
    with pytest.raises(UnsafePathError, match="already exists") as info:
        create_private_dir(squat)
    assert info.value.path == squat and isinstance(info.value, PermissionError)
    assert os.listdir(squat) == [] and mode(squat) == 0o777  # untouched


def test_a_symlink_where_the_folder_would_go_is_refused_and_not_followed(tmp_path):
    target = attacker_dir(tmp_path / "target")
    link = tmp_path / "link"
    os.symlink(target, link)
    with pytest.raises(UnsafePathError, match="already exists"):
        create_private_dir(str(link))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        check_private_dir(str(link))
    assert os.listdir(target) == []


def test_a_folder_open_to_others_is_refused(tmp_path):
    d = tmp_path / "open"
    os.mkdir(d)
    os.chmod(d, 0o755)
    with pytest.raises(UnsafePathError, match="0o755"):
        check_private_dir(str(d))
    os.chmod(d, 0o700)
    assert check_private_dir(str(d)).st_uid == os.geteuid()


@as_root
def test_a_folder_of_another_user_is_refused(tmp_path):
    d = tmp_path / "theirs"
    os.mkdir(d, 0o700)
    os.chown(d, NOBODY, NOBODY)
    with pytest.raises(UnsafePathError, match=f"owned by uid {NOBODY}"):
        check_private_dir(str(d))


def test_files_are_0600_and_never_made_over_something_already_there(tmp_path):
    d = make_private_dir(str(tmp_path), "gf-")
    path = os.path.join(d, "1.block")
    fd = create_private_file(path)
    os.write(fd, b"ours")
    os.close(fd)
    assert mode(path) == 0o600
    with pytest.raises(FileExistsError):
        create_private_file(path)
    assert open(path, "rb").read() == b"ours"
    planted = tmp_path / "planted"
    planted.write_bytes(b"theirs")
    os.symlink(planted, os.path.join(d, "2.block"))
    with pytest.raises(FileExistsError):  # O_EXCL: the link is not followed, its target not truncated
        create_private_file(os.path.join(d, "2.block"))
    assert planted.read_bytes() == b"theirs"


def test_a_symlinked_file_is_not_read(tmp_path):
    planted = tmp_path / "planted"
    planted.write_bytes(b"x")
    os.symlink(planted, tmp_path / "link")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_private_file(str(tmp_path / "link"))
    with pytest.raises(FileNotFoundError):
        open_private_file(str(tmp_path / "missing"))


@as_root
def test_a_file_of_another_user_is_not_read(tmp_path):
    planted = tmp_path / "planted"
    planted.write_bytes(b"x")
    os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(UnsafePathError, match=f"owned by uid {NOBODY}"):
        open_private_file(str(planted))


def test_stale_sweep_removes_only_our_own_real_directories(tmp_path):
    """gf-1 (ours) goes; gf-2 (a symlink to a folder with a file) and gf-3 (a file) are left alone, and so
    is the symlink's target."""
    ours = tmp_path / "gf-1"
    ours.mkdir()
    (ours / "block").write_bytes(b"x")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "precious").write_bytes(b"keep")
    os.symlink(target, tmp_path / "gf-2")
    (tmp_path / "gf-3").write_bytes(b"a file")
    removed = remove_stale_dirs(str(tmp_path), "gf-", lambda rest: True)
    assert removed == [str(ours)]
    assert (target / "precious").read_bytes() == b"keep" and os.path.islink(tmp_path / "gf-2")
    assert (tmp_path / "gf-3").exists()


@as_root
def test_stale_sweep_leaves_another_users_directory(tmp_path):
    theirs = tmp_path / "gf-9"
    theirs.mkdir()
    (theirs / "block").write_bytes(b"x")
    os.chown(theirs, NOBODY, NOBODY)
    assert remove_stale_dirs(str(tmp_path), "gf-", lambda rest: True) == []
    assert (theirs / "block").exists()
