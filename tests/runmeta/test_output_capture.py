"""Tests of the tee of sys.stdout/sys.stderr into log files."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from monocycle_nash.runmeta import RunSessionService
from monocycle_nash.runmeta.errors import ArtifactWriteError
from monocycle_nash.runmeta.process import capture_output


def test_output_goes_to_console_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text printed inside is shown and logged; streams are restored after."""
    out_log, err_log = tmp_path / "stdout.log", tmp_path / "stderr.log"
    before = (sys.stdout, sys.stderr)
    with capture_output(out_log, err_log):
        print("hello 世界")
        sys.stderr.write("warn\n")
        assert sys.stdout.encoding
    assert (sys.stdout, sys.stderr) == before
    assert out_log.read_text(encoding="utf-8") == "hello 世界\n"
    assert err_log.read_text(encoding="utf-8") == "warn\n"
    assert capsys.readouterr() == ("hello 世界\n", "warn\n")


def test_logs_are_appended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second capture adds to the existing logs."""
    out_log, err_log = tmp_path / "stdout.log", tmp_path / "stderr.log"
    for word in ("one", "two"):
        with capture_output(out_log, err_log):
            print(word)
    assert out_log.read_text() == "one\ntwo\n"
    capsys.readouterr()


def test_streams_restored_after_an_exception(tmp_path: Path) -> None:
    """An exception inside still restores the streams."""
    before = (sys.stdout, sys.stderr)
    with pytest.raises(RuntimeError), capture_output(tmp_path / "o", tmp_path / "e"):
        raise RuntimeError("x")
    assert (sys.stdout, sys.stderr) == before


def test_unopenable_log_is_a_typed_error(tmp_path: Path) -> None:
    """A log in a missing folder raises ArtifactWriteError and changes no stream."""
    before = (sys.stdout, sys.stderr)
    with pytest.raises(ArtifactWriteError), capture_output(tmp_path / "o", tmp_path / "no" / "e"):
        pass  # pragma: no cover
    assert (sys.stdout, sys.stderr) == before


# -- several threads (a notebook's thread pool) -------------------------------------------


def test_record_from_several_threads_keeps_each_output_in_its_own_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four threads recording at once: each log holds its own lines; print() works after."""
    before = (sys.stdout, sys.stderr)
    start = threading.Barrier(4)

    def work(name: str) -> int:
        with (
            RunSessionService.open(tmp_path, git_probe=lambda: None) as service,
            service.record(f"thread {name}") as run,
        ):
            start.wait()  # every capture is open before anyone prints
            for line in range(30):
                print(f"{name} {line}")
                sys.stderr.write(f"{name} err {line}\n")
            start.wait()  # and every one prints before the first ends
            return run.run_id

    with ThreadPoolExecutor(4) as pool:
        run_ids = dict(zip("abcd", pool.map(work, "abcd"), strict=True))
    assert (sys.stdout, sys.stderr) == before
    print("after")  # the console still works
    assert capsys.readouterr().out.endswith("after\n")
    with RunSessionService.open(tmp_path) as service:
        assert {service.runs.get(run_id).status for run_id in run_ids.values()} == {"success"}
    for name, run_id in run_ids.items():
        logs = tmp_path / "result" / str(run_id) / "logs"
        assert (logs / "stdout.log").read_text("utf-8") == "".join(
            f"{name} {line}\n" for line in range(30)
        )
        assert (logs / "stderr.log").read_text("utf-8") == "".join(
            f"{name} err {line}\n" for line in range(30)
        )


def test_streams_are_restored_whichever_capture_ends_first(tmp_path: Path) -> None:
    """A starts, B starts, A ends, B ends: the original streams are back, nothing closed."""
    before = (sys.stdout, sys.stderr)
    b_started, a_ended = threading.Event(), threading.Event()

    def b() -> None:
        with capture_output(tmp_path / "b.out", tmp_path / "b.err"):
            b_started.set()
            assert a_ended.wait(30)
            print("b after a ended")

    thread = threading.Thread(target=b)
    with capture_output(tmp_path / "a.out", tmp_path / "a.err"):
        thread.start()
        assert b_started.wait(30)
        print("a")
    a_ended.set()
    thread.join(30)
    assert (sys.stdout, sys.stderr) == before
    assert (tmp_path / "a.out").read_text("utf-8") == "a\n"
    assert (tmp_path / "b.out").read_text("utf-8") == "b after a ended\n"


def test_a_worker_thread_of_the_only_capture_is_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One capturing thread: what its worker threads print lands in its log, as before."""
    # One write per line: print() writes the text and its newline separately, which
    # two threads may interleave ("w1w2\n\n") whatever the capture does.
    with capture_output(tmp_path / "o", tmp_path / "e"), ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda text: sys.stdout.write(f"{text}\n"), ["w1", "w2"]))
    assert sorted((tmp_path / "o").read_text("utf-8").split()) == ["w1", "w2"]
    assert sorted(capsys.readouterr().out.split()) == ["w1", "w2"]


def test_other_threads_print_to_the_console_only_when_several_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two capturing threads: a third thread's text is shown but put in neither log."""
    b_started, done = threading.Event(), threading.Event()

    def b() -> None:
        with capture_output(tmp_path / "b.out", tmp_path / "b.err"):
            b_started.set()
            assert done.wait(30)

    thread = threading.Thread(target=b)
    with capture_output(tmp_path / "a.out", tmp_path / "a.err"):
        thread.start()
        assert b_started.wait(30)
        bystander = threading.Thread(target=print, args=("whose?",))
        bystander.start()
        bystander.join(30)
        done.set()
        thread.join(30)
    assert (tmp_path / "a.out").read_text("utf-8") == ""
    assert (tmp_path / "b.out").read_text("utf-8") == ""
    assert capsys.readouterr().out == "whose?\n"


def test_a_nested_capture_also_writes_to_the_outer_log(tmp_path: Path) -> None:
    """A capture inside a capture (one thread): the inner text lands in both logs."""
    before = (sys.stdout, sys.stderr)
    with capture_output(tmp_path / "outer", tmp_path / "outer.err"):
        print("outer")
        with capture_output(tmp_path / "inner", tmp_path / "inner.err"):
            print("inner")
    assert (sys.stdout, sys.stderr) == before
    assert (tmp_path / "outer").read_text("utf-8") == "outer\ninner\n"
    assert (tmp_path / "inner").read_text("utf-8") == "inner\n"
