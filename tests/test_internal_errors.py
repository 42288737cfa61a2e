"""An unexpected exception (a bug) is never shown as a traceback: one line naming a log file that
holds it, exit 1 (a failed job and exit 3 in a batch, a 500 JSON answer in the review server),
nothing published; ``CADRE_DEBUG=1`` shows the traceback too.

Each failure is injected into a real internal function of one stage; the batch worker is a spawned
process out of reach of monkeypatching, so there the failure comes from a damaged cache entry the
job really reads.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import pipeline.analyse
import pipeline.export
import pipeline.render
import pipeline.source.probe
from pipeline.cli import main
from pipeline.core import cache
from pipeline.core.crash import write_log
from tests.conftest import make_clip

DETAILS = re.compile(r"\(details: (.+)\)$")


def boom(*args, **kwargs):
    raise RuntimeError("injected\nsecond line")


def render(tmp_path: Path, *extra: str):
    folder = tmp_path / "ep"
    make_clip(folder / "1.mp4", size="320x240", duration=1)
    result = CliRunner().invoke(main, ["render", str(folder), "-n", "youtube-shorts", *extra], catch_exceptions=False)
    return result, tmp_path / "exports"


def error_line(stderr: str) -> str:
    """The one line for the person; progress lines (``ep: analyse 1.mp4``) may precede it."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    ours = [line for line in lines if line.startswith("cadre:") or line.startswith(" ")]
    assert len(ours) == 1 and lines[-1] == ours[0], stderr
    return ours[0]


def check_log(line: str) -> Path:
    match = DETAILS.search(line)
    assert match, line
    log = Path(match.group(1))
    assert log.is_file() and log.parent == cache.cache_dir() / "logs"
    text = log.read_text("utf-8")
    assert "Traceback" in text and "injected" in text
    return log


def nothing_published(tmp_path: Path, exports: Path) -> None:
    assert not exports.exists() or not any(p.is_file() for p in exports.rglob("*")), list(exports.rglob("*"))
    assert not list(tmp_path.rglob(".cadre-staging-*"))


@pytest.mark.parametrize("module, name", [(pipeline.source.probe, "_check_complete"), (pipeline.analyse, "reframe_clip"),
                                          (pipeline.render, "_encoder_output"), (pipeline.export, "part_words")],
                         ids=["probe", "analyse", "render", "export"])
def test_a_bug_in_any_stage_is_one_line_and_a_log(tmp_path, monkeypatch, module, name):
    monkeypatch.delenv("CADRE_DEBUG", raising=False)
    monkeypatch.setattr(module, name, boom)
    result, exports = render(tmp_path)
    assert result.exit_code == 1, result.output
    line = error_line(result.stderr)
    assert line.startswith("cadre: internal error: RuntimeError: injected second line (details: "), line
    check_log(line)
    nothing_published(tmp_path, exports)


def test_cadre_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_DEBUG", "1")
    monkeypatch.setattr(pipeline.render, "_encoder_output", boom)
    result, exports = render(tmp_path)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "_encoder_output" not in result.stdout
    assert result.stderr.splitlines()[-1].startswith("cadre: internal error: RuntimeError: injected")
    check_log(result.stderr.splitlines()[-1])
    nothing_published(tmp_path, exports)


def test_ctrl_c_is_one_line_exit_130_and_nothing_published(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline.analyse, "reframe_clip", interrupt)
    result, exports = render(tmp_path)
    assert result.exit_code == 130
    assert error_line(result.stderr) == "cadre: interrupted"
    nothing_published(tmp_path, exports)


def test_user_errors_and_usage_errors_are_unchanged(tmp_path):
    result = CliRunner().invoke(main, ["render", str(tmp_path / "missing")], catch_exceptions=False)
    assert result.exit_code == 1 and result.stderr.startswith("cadre: error: ")
    assert "internal error" not in result.stderr
    result = CliRunner().invoke(main, ["render", "--no-such-option"], catch_exceptions=False)
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_log_falls_back_to_the_temp_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CADRE_CACHE_DIR", str(blocker / "cache"))   # cannot be created
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    try:
        boom()
    except RuntimeError as exc:
        first, second = write_log(exc), write_log(exc)
    assert first.parent == second.parent == tmp_path / "tmp" and first != second
    assert "injected" in first.read_text("utf-8")


# ---- batch: a bug in one job fails that job, with the same one line, and the batch exits 3 -------------

@pytest.fixture
def damaged_shots_entry(tmp_path):
    """A campaign whose clip has a shots cache entry that parses as JSON but holds nonsense: the
    analysis job really reads it (``--reframe follow``) and fails in ``Shots.from_dict``."""
    from pipeline.source.episode import load_episode
    from pipeline.source.shots import detect_shots

    campaign = tmp_path / "campaign"
    make_clip(campaign / "ep" / "1.mp4", size="336x240", duration=1)   # a size no other test uses
    span = load_episode(campaign / "ep", {}).spans[0]
    keys = []
    real_load = cache.load

    def spy(kind, key):
        if kind == "shots":
            keys.append(key)
        return real_load(kind, key)
    cache.load = spy
    try:
        detect_shots(span)
    finally:
        cache.load = real_load
    assert len(keys) == 1
    cache.store("shots", keys[0], {"frame_count": "injected", "cuts": []})
    yield campaign
    cache._entry("shots", keys[0]).unlink(missing_ok=True)   # the shared test cache stays sound


def test_a_bug_in_a_batch_job_fails_that_job_with_a_log(damaged_shots_entry, monkeypatch):
    monkeypatch.delenv("CADRE_DEBUG", raising=False)
    campaign = damaged_shots_entry
    args = ["batch", str(campaign), "-n", "youtube-shorts", "--reframe", "follow", "--captions", "none", "-j", "1"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1].startswith("cadre: error: ")   # the batch's own one line
    assert "internal error: ValueError" in result.stdout                  # the summary table
    rows = json.loads((campaign / "exports" / "campaign.json").read_text("utf-8"))["rows"]
    assert [(r["episode"], r["network"], r["status"]) for r in rows] == [("ep", "youtube-shorts", "failed")]
    reason = rows[0]["reason"]
    assert reason.startswith("internal error: ValueError: ") and "\n" not in reason, reason
    check_log(reason)
    nothing_published(campaign, campaign / "exports" / "ep")

    # CADRE_DEBUG=1: the worker prints the traceback on the terminal (a real process, real stderr)
    env = {**os.environ, "CADRE_DEBUG": "1"}
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert run.returncode == 3, run.stderr
    assert "Traceback (most recent call last)" in run.stderr and "injected" in run.stderr
    assert "internal error: ValueError" in run.stdout


# ---- review server: a bug in a handler is a 500 JSON answer with one line -----------------------------

def test_a_bug_in_a_review_handler_is_a_500_json_line(tmp_path, monkeypatch, capfd):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    pytest.importorskip("tomlkit")
    from pipeline.review.server import ReviewServer
    from pipeline.review.session import ReviewSession
    from tests.test_review_fixtures import make_episode
    from tests.test_review_security import request

    monkeypatch.setattr(ReviewSession, "state", boom)
    srv = ReviewServer(make_episode(tmp_path), proxy=False).start()
    try:
        monkeypatch.delenv("CADRE_DEBUG", raising=False)
        status, body, headers = request(srv, f"/{srv.token}/api/state")
        assert status == 500 and headers["content-type"] == "application/json"
        line = json.loads(body)["error"]
        assert line.startswith("internal error: RuntimeError: injected second line (details: ") and "\n" not in line
        assert "Traceback" not in body
        check_log(line)
        assert "Traceback" not in capfd.readouterr().err
        monkeypatch.setenv("CADRE_DEBUG", "1")
        status, body, _ = request(srv, f"/{srv.token}/api/state")
        assert status == 500 and "Traceback" not in body
        assert "Traceback (most recent call last)" in capfd.readouterr().err
    finally:
        srv.stop()


def test_a_missing_optional_engine_is_a_user_error_naming_the_install_commands(monkeypatch):
    """Not a bug: ``import whisper`` failing is one ``cadre: error:`` line saying how to install it."""
    from pipeline.core.errors import CadreError
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.engines.openai_whisper import OpenAIWhisperEngine

    monkeypatch.setitem(sys.modules, "whisper", None)   # import whisper raises ImportError
    with pytest.raises(CadreError) as caught:
        OpenAIWhisperEngine(None, TranscribeOptions(engine="openai-whisper"))
    message = str(caught.value)
    assert "\n" not in message
    for command in ("pip install torch==2.13.0", "pip install --no-deps openai-whisper==20250625",
                    'pip install "cadre[openai]"'):
        assert command in message
