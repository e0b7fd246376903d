"""Tests of RunArtifactStore on real folders."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from monocycle_nash.runmeta.artifact_store import (
    InputFile,
    InputSnapshotInfo,
    RunArtifactStore,
    is_temp_file,
    read_regular_file,
    temp_file_writer,
    write_file_atomically,
)
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    InputNotFoundError,
    InputReadError,
    MetaCorruptError,
    MetaNotFoundError,
    RunDirExistsError,
)


@pytest.fixture
def store(tmp_path: Path) -> RunArtifactStore:
    """A store whose result root does not exist yet."""
    return RunArtifactStore(tmp_path / "result")


def test_create_run_dir_makes_the_three_folders(store: RunArtifactStore, tmp_path: Path) -> None:
    """create_run_dir makes result/<id>/ with input, output and logs."""
    run_dir = store.create_run_dir(7)
    assert run_dir == tmp_path / "result" / "7" == store.run_dir(7)
    assert sorted(p.name for p in run_dir.iterdir()) == ["input", "logs", "output"]


def test_existing_run_dir_is_refused_and_untouched(store: RunArtifactStore) -> None:
    """A folder that already exists is never reused for another run."""
    run_dir = store.create_run_dir(1)
    (run_dir / "output" / "result.txt").write_text("first run")
    with pytest.raises(RunDirExistsError, match="already exists"):
        store.create_run_dir(1)
    assert (run_dir / "output" / "result.txt").read_text() == "first run"


def test_unwritable_root_becomes_artifact_write_error(tmp_path: Path) -> None:
    """A result root that is a file gives a typed error naming the path."""
    (tmp_path / "result").write_text("not a folder")
    with pytest.raises(ArtifactWriteError, match="result"):
        RunArtifactStore(tmp_path / "result").create_run_dir(1)


def test_snapshot_of_a_file(store: RunArtifactStore, tmp_path: Path) -> None:
    """A file is copied into input/ and its SHA-256 reported."""
    source = tmp_path / "game.toml"
    source.write_bytes(b'labels = ["A"]\n')
    store.create_run_dir(1)
    info = store.save_input_snapshot(1, [InputFile("input", source)])
    assert (store.run_dir(1) / "input" / "game.toml").read_bytes() == source.read_bytes()
    assert info.source_path == str(source)
    assert info.stored_file == "input/game.toml"
    assert not info.split_config_applied
    assert info.checksum_sha256 == hashlib.sha256(b'labels = ["A"]\n').hexdigest()


def test_snapshot_of_a_folder_with_merged_input(store: RunArtifactStore, tmp_path: Path) -> None:
    """A folder is copied whole; the merged input is stored and is the checksummed file."""
    source = tmp_path / "config"
    (source / "sub").mkdir(parents=True)
    (source / "run.toml").write_text("game = 'sub/game.toml'\n")
    (source / "sub" / "game.toml").write_text("labels = []\n")
    store.create_run_dir(2)
    merged = b"[game]\nlabels = []\n"
    info = store.save_input_snapshot(2, [InputFile("input", source)], merged)
    stored = store.run_dir(2) / "input"
    assert (stored / "config" / "sub" / "game.toml").read_text() == "labels = []\n"
    assert (stored / "config" / "run.toml").is_file()
    assert (stored / "merged_input.toml").read_bytes() == merged
    assert info.split_config_applied
    assert info.stored_file == "input/merged_input.toml"
    assert info.checksum_sha256 == hashlib.sha256(merged).hexdigest()


def test_folder_checksum_covers_names_and_contents(store: RunArtifactStore, tmp_path: Path) -> None:
    """Folders differing only in a file name, or only in a file's bytes, get other checksums."""
    sums = []
    cases = ((1, "a.toml", "x = 1\n"), (2, "b.toml", "x = 1\n"), (3, "a.toml", "x = 2\n"))
    for run_id, name, text in (*cases, (4, "a.toml", "x = 1\n")):
        source = tmp_path / f"src{run_id}" / "config"
        source.mkdir(parents=True)
        (source / name).write_text(text)
        store.create_run_dir(run_id)
        sums.append(store.save_input_snapshot(run_id, [InputFile("input", source)]).checksum_sha256)
    assert len(set(sums[:3])) == 3
    assert sums[3] == sums[0]  # the same names and bytes elsewhere: the same checksum


def test_unlistable_input_subfolder_is_an_error(
    store: RunArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sub-folder of the input that cannot be listed raises InputReadError naming it."""
    source = tmp_path / "config"
    (source / "locked").mkdir(parents=True)
    (source / "locked" / "a.toml").write_text("x = 1\n")
    (source / "b.toml").write_text("x = 2\n")
    store.create_run_dir(1)
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InputReadError, match=r"cannot read input .*locked: Permission denied"):
        store.save_input_snapshot(1, [InputFile("input", source)])


def test_input_folder_holding_the_run_folder_is_refused(store: RunArtifactStore) -> None:
    """Freezing the result root, which holds the run folder, is an InputReadError."""
    store.create_run_dir(1)
    with pytest.raises(
        InputReadError, match=r"cannot read input .*result: it holds the run folder"
    ):
        store.save_input_snapshot(1, [InputFile("input", store.result_root)])
    assert list((store.run_dir(1) / "input").iterdir()) == []


def test_merged_input_alone(store: RunArtifactStore) -> None:
    """Only merged bytes: stored as merged_input.toml with no source path."""
    store.create_run_dir(1)
    info = store.save_input_snapshot(1, [], b"x = 1\n")
    assert (info.source_path, info.stored_file) == (None, "input/merged_input.toml")


def test_missing_input_is_a_typed_error(store: RunArtifactStore, tmp_path: Path) -> None:
    """A missing source raises InputNotFoundError naming it."""
    store.create_run_dir(1)
    with pytest.raises(InputNotFoundError, match=r"nothing\.toml"):
        store.save_input_snapshot(1, [InputFile("input", tmp_path / "nothing.toml")])


def test_meta_is_written_whole_and_read_back(store: RunArtifactStore) -> None:
    """meta.json round-trips and no temporary file stays behind."""
    store.create_run_dir(1)
    store.write_meta(1, {"run_id": 1, "status": "running", "note": "日本語"})
    store.write_meta(1, {"run_id": 1, "status": "success", "note": "日本語"})
    assert store.read_meta(1) == {"run_id": 1, "status": "success", "note": "日本語"}
    assert "日本語" in store.meta_path(1).read_text(encoding="utf-8")
    assert [p.name for p in store.run_dir(1).iterdir() if p.is_file()] == ["meta.json"]
    assert store.leftover_temp_files(1) == []


@pytest.mark.parametrize(
    "code",
    [pytest.param(errno.ENOSPC, id="disk-full"), pytest.param(errno.EIO, id="io-error")],
)
def test_failed_meta_write_keeps_old_file_and_removes_temp(
    store: RunArtifactStore, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """A failing write raises ArtifactWriteError; the old meta.json and no temp file remain."""
    store.create_run_dir(1)
    store.write_meta(1, {"status": "running"})

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ArtifactWriteError, match=r"meta\.json") as caught:
        store.write_meta(1, {"status": "success"})
    monkeypatch.undo()
    assert caught.value.path == store.meta_path(1)
    assert store.read_meta(1) == {"status": "running"}
    assert store.leftover_temp_files(1) == []


def test_meta_write_into_missing_folder_fails_loudly(store: RunArtifactStore) -> None:
    """Writing meta.json of a run without a folder is an error, not a silent skip."""
    with pytest.raises(ArtifactWriteError):
        store.write_meta(5, {"run_id": 5})


def test_read_meta_errors(store: RunArtifactStore) -> None:
    """Missing and corrupt meta.json raise distinct typed errors."""
    store.create_run_dir(1)
    with pytest.raises(MetaNotFoundError):
        store.read_meta(1)
    store.meta_path(1).write_text('{"run_id": 1,')
    with pytest.raises(MetaCorruptError, match=r"not valid JSON"):
        store.read_meta(1)
    store.meta_path(1).write_text("[1, 2]")
    with pytest.raises(MetaCorruptError, match=r"not a JSON object"):
        store.read_meta(1)


def test_leftover_temp_files_and_run_ids(store: RunArtifactStore) -> None:
    """Interrupted writes are found by name; run folders are listed by id."""
    for run_id in (3, 10, 2):
        store.create_run_dir(run_id)
    (store.result_root / "notes").mkdir()
    (store.result_root / "007").mkdir()
    leftover = store.run_dir(3) / ".meta.json.123.0.tmp"
    leftover.write_text("{")
    assert store.leftover_temp_files(3) == [leftover]
    assert is_temp_file(leftover.name)
    assert not is_temp_file("meta.json")
    assert store.run_ids_on_disk() == [2, 3, 10]


def test_temp_file_names_its_writer() -> None:
    """The pid in a temporary meta.json's name is read back; a foreign name gives None."""
    assert temp_file_writer(".meta.json.123.0.tmp") == 123
    assert temp_file_writer(".meta.json.x.0.tmp") is None


def test_delete_run_dir(store: RunArtifactStore) -> None:
    """delete_run_dir removes the whole folder and reports whether it existed."""
    store.create_run_dir(1)
    (store.run_dir(1) / "output" / "x.json").write_text(json.dumps([1]))
    assert store.delete_run_dir(1) is True
    assert not store.run_dir(1).exists()
    assert store.delete_run_dir(1) is False


def test_append_log(store: RunArtifactStore) -> None:
    """append_log adds to logs/stderr.log."""
    store.create_run_dir(1)
    store.append_log(1, "one\n")
    store.append_log(1, "two\n")
    assert store.log_path(1).read_text() == "one\ntwo\n"


def test_role_tagged_inputs_are_stored_with_checksums(
    store: RunArtifactStore, tmp_path: Path
) -> None:
    """Every role-tagged input is copied with its digest; a taken name gets its role."""
    (tmp_path / "a").mkdir()
    config = tmp_path / "run.toml"
    config.write_bytes(b'game = "a/run.toml"\n')
    game = tmp_path / "a" / "run.toml"
    game.write_bytes(b"matrix = [[0.0]]\n")
    store.create_run_dir(1)
    info = store.save_input_snapshot(
        1, [InputFile("input", config), InputFile("game", game)], b"[game]\n"
    )
    stored = store.run_dir(1) / "input"
    assert sorted(p.name for p in stored.iterdir()) == [
        "game-run.toml",
        "merged_input.toml",
        "run.toml",
    ]
    assert (stored / "game-run.toml").read_bytes() == game.read_bytes()
    assert [(f.role, f.source, f.stored_file) for f in info.files] == [
        ("input", str(config), "input/run.toml"),
        ("game", str(game), "input/game-run.toml"),
    ]
    assert info.files[1].sha256 == hashlib.sha256(game.read_bytes()).hexdigest()
    assert (info.stored_file, info.split_config_applied) == ("input/merged_input.toml", True)
    assert InputSnapshotInfo.from_dict(info.to_dict()) == info


def test_input_named_like_the_merged_input_gets_its_role(
    store: RunArtifactStore, tmp_path: Path
) -> None:
    """A stored merged_input.toml given again keeps the name for the new merged input."""
    again = tmp_path / "merged_input.toml"
    again.write_bytes(b"x = 1\n")
    store.create_run_dir(1)
    info = store.save_input_snapshot(1, [InputFile("input", again)], b"x = 2\n")
    assert [f.stored_file for f in info.files] == ["input/input-merged_input.toml"]
    assert (store.run_dir(1) / "input" / "merged_input.toml").read_bytes() == b"x = 2\n"


def test_write_file_atomically_leaves_no_temp_file_on_failure(tmp_path: Path) -> None:
    """A failed write raises ArtifactWriteError naming the file and leaves nothing behind."""
    target = tmp_path / "out.json"
    write_file_atomically(target, "first\n")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(ArtifactWriteError, match=r"folder\.json"):
        write_file_atomically(tmp_path / "folder.json", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.json", "out.json"]
    assert target.read_text("utf-8") == "first\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_temp_file_names_are_unpredictable_and_name_their_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each temp file gets a random part after the pid; check still reads the pid back."""
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    for _ in range(3):
        write_file_atomically(tmp_path / "meta.json", "{}")
    assert len(set(seen)) == 3
    for name in seen:
        prefix, pid, token, suffix = name.rsplit(".", 3)
        assert (prefix, pid, suffix) == (".meta.json", str(os.getpid()), "tmp")
        assert len(token) == 12 and not token.strip("0123456789abcdef")
        assert is_temp_file(name) and temp_file_writer(name) == os.getpid()
    assert temp_file_writer(".meta.json.123.0.tmp") == 123  # names of earlier versions
    assert temp_file_writer(".meta.json.123.xyz.tmp") is None


def test_read_regular_file_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    """A symlink, a FIFO, a device or a file over the limit is refused at once, never read."""
    regular = tmp_path / "meta.json"
    regular.write_bytes(b"{}")
    assert read_regular_file(regular, 2) == b"{}"
    with pytest.raises(ValueError, match="larger than 1 bytes"):
        read_regular_file(regular, 1)
    (tmp_path / "link").symlink_to(regular)
    with pytest.raises(ValueError, match="symbolic link"):
        read_regular_file(tmp_path / "link", 100)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match="not a regular file"):
        read_regular_file(tmp_path / "fifo", 100)
    with pytest.raises(ValueError, match="not a regular file"):
        read_regular_file("/dev/zero", 100)
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "missing", 100)


def test_read_meta_of_a_fifo_is_unreadable_not_a_hang(store: RunArtifactStore) -> None:
    """meta.json that is a FIFO: MetaCorruptError saying it is no regular file."""
    store.create_run_dir(1)
    os.mkfifo(store.meta_path(1))
    with pytest.raises(MetaCorruptError, match="not a regular file"):
        store.read_meta(1)


def test_snapshot_keeps_the_permission_bits_of_its_sources(
    store: RunArtifactStore, tmp_path: Path
) -> None:
    """Copies keep their source's mode (umask aside); the merged input is as private as any."""
    old_umask = os.umask(0)
    try:
        private, shared = tmp_path / "private.toml", tmp_path / "shared.toml"
        private.write_text("secret = 1\n")
        shared.write_text("open = 1\n")
        private.chmod(0o600)
        shared.chmod(0o644)
        folder = tmp_path / "config"
        (folder / "keys").mkdir(parents=True)
        (folder / "keys" / "key.toml").write_text("k = 1\n")
        (folder / "keys" / "key.toml").chmod(0o400)
        (folder / "keys").chmod(0o700)
        store.create_run_dir(1)
        inputs = [InputFile("input", shared), InputFile("settings", private)]
        store.save_input_snapshot(1, [*inputs, InputFile("game", folder)], b"merged = 1\n")
    finally:
        os.umask(old_umask)
    stored = store.run_dir(1) / "input"
    assert _mode(stored / "shared.toml") == 0o644
    assert _mode(stored / "private.toml") == 0o600
    assert _mode(stored / "merged_input.toml") == 0o600
    assert _mode(stored / "config" / "keys") == 0o700
    assert _mode(stored / "config" / "keys" / "key.toml") == 0o400


def test_snapshot_modes_are_at_most_the_umasks(store: RunArtifactStore, tmp_path: Path) -> None:
    """A 0666 input copied under umask 077 is 0600: the umask still applies."""
    source = tmp_path / "game.toml"
    source.write_text("x = 1\n")
    source.chmod(0o666)
    old_umask = os.umask(0o077)
    try:
        store.create_run_dir(1)
        store.save_input_snapshot(1, [InputFile("input", source)], b"x = 1\n")
    finally:
        os.umask(old_umask)
    stored = store.run_dir(1) / "input"
    assert _mode(stored / "game.toml") == 0o600
    assert _mode(stored / "merged_input.toml") == 0o600
