"""Issue 13: a sign-off that covers every published pixel and sound, checked at the moment of
publishing. Masking off only for one episode, by a person; approval records that are edited by
hand or copied from another episode are refused; batch and watch honour --require-approval;
--reanalyse; the append-only audit log."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.orchestrator import RenderOptions, prepare
from tests.test_review_fixtures import make_episode


@pytest.fixture
def episode(tmp_path):
    return make_episode(tmp_path / "campaign")


def one_line_error(result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("cadre: error: "), result.output
    return lines[0]


# ------------------------------------------------------------------ masking off: one episode, by a person

def test_campaign_cannot_turn_face_masking_off(episode):
    (episode.parent / "campaign.toml").write_text('redaction = "none"\n', "utf-8")
    with pytest.raises(CadreError, match="cannot be set for a whole campaign") as err:
        prepare(episode, RenderOptions())
    assert str(err.value).startswith(str(episode.parent / "campaign.toml"))
    out = CliRunner().invoke(main, ["render", str(episode), "-o", str(episode.parent / "out")])
    line = one_line_error(out)
    assert "episode.toml" in line and "--redact none" in line
    assert not (episode.parent / "out").exists()


def test_masking_off_records_exactly_who_asked(episode):
    (episode / "episode.toml").write_text((episode / "episode.toml").read_text("utf-8") + 'redaction = "none"\n',
                                          "utf-8")
    off = prepare(episode, RenderOptions()).redaction_off
    assert off["requested_by"] == "episode.toml" and off["source"] == str(episode / "episode.toml")
    off = prepare(episode, RenderOptions(redact="none")).redaction_off
    assert off["requested_by"] == "--redact none" and off["source"] == "command line"
    assert prepare(episode, RenderOptions(redact="mosaic")).redaction_off is None


# ------------------------------------------------------------------ the fingerprint covers what decides pixels

def check(folder, **kw):
    return prepare(folder, RenderOptions(require_approval=True, **kw))


def test_another_face_model_voids_the_approval(episode, tmp_path, monkeypatch):
    from pipeline import approve
    from pipeline.core.cache import sha256_file
    from pipeline.faces.detectors.centerface import model_path

    approve(episode, "Cne Martin")
    other = tmp_path / "other.onnx"
    other.write_bytes(model_path().read_bytes() + b"\0")
    monkeypatch.setenv("CADRE_FACE_MODEL", str(other))
    monkeypatch.setenv("CADRE_FACE_MODEL_SHA256", sha256_file(other))
    with pytest.raises(CadreError, match="changed since Cne Martin approved it on .*: face model;"):
        check(episode)


def test_other_analysis_results_void_the_approval(episode):
    """A re-analysis that finds other faces, frames otherwise or hears other words is not what was approved."""
    from pipeline import approve
    from pipeline.signoff.approval import approval_status

    record = approve(episode, "Cne Martin")
    analysis = record.inputs["analysis"]
    assert set(analysis) == {"1.mp4/faces", "1.mp4/framing", "1.mp4/words"} and all(analysis.values())
    prepared = check(episode)
    assert approval_status(prepared, analysis).approved
    for part in analysis:
        status = approval_status(prepared, {**analysis, part: "0" * 64})
        assert not status.approved and status.changes == [f"analysis result {part}"]


def test_unrelated_changes_keep_the_approval(episode):
    import os

    from pipeline import approve

    approve(episode, "Cne Martin")
    os.utime(episode / "1.mp4", (1, 1))
    os.utime(episode / "1.fr.srt", (2, 2))
    (episode / "notes.txt").write_text("tournage du 12\n", "utf-8")
    check(episode)


# ------------------------------------------------------------------ bad approval records

def test_hand_edited_approval_is_refused(episode):
    from pipeline import approve

    approve(episode, "Cne Martin")
    path = episode / "approval.json"
    data = json.loads(path.read_text("utf-8"))
    data["by"] = "Col Autre"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(CadreError, match="edited by hand"):
        check(episode)
    data["by"] = "Cne Martin"
    data["inputs"]["edits"]["1.fr.srt"] = "0" * 64      # inputs made to match an edited caption file
    path.write_text(json.dumps(data), "utf-8")
    out = CliRunner().invoke(main, ["render", str(episode), "--require-approval", "-o", str(episode.parent / "out")])
    assert "edited by hand" in one_line_error(out)
    assert not list((episode.parent / "out").rglob("*.mp4"))


def test_approval_copied_from_another_episode_is_refused(tmp_path):
    from pipeline import approve

    a = make_episode(tmp_path / "campaign", "a")
    b = make_episode(tmp_path / "campaign", "b")
    approve(a, "Cne Martin")
    (b / "approval.json").write_bytes((a / "approval.json").read_bytes())
    out = CliRunner().invoke(main, ["render", str(b), "--require-approval", "-o", str(tmp_path / "out")])
    assert "made for episode 'a', not 'b'" in one_line_error(out)
    assert not list((tmp_path / "out").rglob("*.mp4"))


def test_never_approved_with_require_approval(episode):
    out = CliRunner().invoke(main, ["render", str(episode), "--require-approval", "-o", str(episode.parent / "out")])
    assert "never approved" in one_line_error(out)
    assert not list((episode.parent / "out").rglob("*.mp4"))
    from pipeline.signoff.audit_log import read
    events = read(episode.parent / "out" / "ep")
    assert [e["event"] for e in events] == ["refusal"] and "never approved" in events[0]["reason"]


# ------------------------------------------------------------------ checked at the moment of publishing (real renders)

FAST = RenderOptions(networks=("youtube-shorts",), x264_preset="superfast", require_approval=True)


def test_caption_edited_during_the_render_is_not_published(episode, tmp_path):
    from dataclasses import replace

    from pipeline import approve, render_episode
    from pipeline.signoff.audit_log import read

    approve(episode, "Cne Martin")
    out = tmp_path / "out"
    srt = episode / "1.fr.srt"

    def events(kind, **data):
        if kind == "stage" and data.get("name") == "render":   # the encode starts: a person edits a caption
            srt.write_text(srt.read_text("utf-8").replace("Dupond", "Durand"), "utf-8")

    with pytest.raises(CadreError) as err:
        render_episode(episode, replace(FAST, out_dir=out), events)
    message = str(err.value)
    assert "\n" not in message and "changed during the render" in message and "edited file 1.fr.srt" in message
    assert "nothing was published" in message
    assert not list(out.rglob("*.mp4")) and not (out / "ep" / "youtube-shorts").exists()
    log = read(out / "ep")
    assert [e["event"] for e in log] == ["render", "refusal"]
    assert "edited file 1.fr.srt" in log[1]["reason"] and log[1]["os_user"]


@pytest.mark.slow
def test_approved_render_is_published_and_audited(episode, tmp_path):
    """--reanalyse runs Whisper and the detector again; the same results keep the approval."""
    from pipeline.core.cache import sha256_file
    from pipeline.signoff.audit_log import read

    out = CliRunner().invoke(main, ["approve", str(episode), "--by", "Lt Durand"])
    assert out.exit_code == 0, out.output
    args = ["render", str(episode), "-n", "youtube-shorts", "--x264-preset", "superfast", "-o", str(tmp_path / "out"),
            "--require-approval"]
    out = CliRunner().invoke(main, args + ["--reanalyse"])
    assert out.exit_code == 0, out.output
    ep_out = tmp_path / "out" / "ep"
    report = json.loads((ep_out / "youtube-shorts" / "report.json").read_text("utf-8"))
    assert report["analysis"] == {"from_cache": False, "reanalysed": True}
    log = read(ep_out)
    assert [e["event"] for e in log] == ["render", "publication"]
    pub = log[-1]
    assert pub["networks"] == ["youtube-shorts"] and pub["masking"]["preset"] == "mosaic"
    assert pub["fingerprint"] == json.loads((episode / "approval.json").read_text("utf-8"))["hash"]
    for name, digest in pub["files"].items():
        assert sha256_file(ep_out / name) == digest
    assert "youtube-shorts/ep.mp4" in pub["files"]
    out = CliRunner().invoke(main, args)                  # again: the analysis comes from the cache
    assert out.exit_code == 0, out.output
    report = json.loads((ep_out / "youtube-shorts" / "report.json").read_text("utf-8"))
    assert report["analysis"] == {"from_cache": True, "reanalysed": False}
    assert [e["event"] for e in read(ep_out)] == ["render", "publication"] * 2


def test_batch_require_approval_fails_only_the_unapproved_episode(tmp_path):
    from pipeline import approve

    campaign = tmp_path / "campaign"
    a = make_episode(campaign, "a")
    make_episode(campaign, "b")
    approve(a, "Cne Martin")
    out = CliRunner().invoke(main, ["batch", str(campaign), "-n", "youtube-shorts", "--x264-preset", "superfast",
                                    "--require-approval", "-j", "1"])
    assert out.exit_code == 3, out.output
    assert (campaign / "exports" / "a" / "youtube-shorts" / "a.mp4").is_file()
    assert not (campaign / "exports" / "b" / "youtube-shorts").exists()
    rows = json.loads((campaign / "exports" / "campaign.json").read_text("utf-8"))
    text = json.dumps(rows)
    assert "never approved" in text
    page = (campaign / "exports" / "campaign.html").read_text("utf-8")
    assert "never approved" in page and "approved by Cne Martin" in page and "last published" in page


def test_batch_refuses_a_campaign_without_masking(tmp_path):
    campaign = tmp_path / "campaign"
    make_episode(campaign, "a")
    (campaign / "campaign.toml").write_text('redaction = "none"\n', "utf-8")
    out = CliRunner().invoke(main, ["batch", str(campaign), "-n", "youtube-shorts"])
    assert "cannot be set for a whole campaign" in one_line_error(out)
    assert not list(campaign.rglob("*.mp4")) or all(p.parent == campaign / "a" for p in campaign.rglob("*.mp4"))


# ------------------------------------------------------------------ the audit log survives kill -9

WRITER = """
import sys
from pipeline.signoff import audit_log
i = 0
while True:
    audit_log.append(sys.argv[1], "render", n=i, pad="x" * 20000)
    i += 1
"""


def _lines_whole_but_the_last(raw: bytes) -> None:
    lines = raw.split(b"\n")
    for line in lines[:-1]:
        if line:
            json.loads(line)                     # every ended line is a whole event


def test_audit_log_after_kill_9_keeps_every_event_whole(tmp_path):
    """A writer killed mid-line (Linux stops a write between pages on kill -9) can leave the start
    of one line; every line before it is whole, and the next append ends the fragment first, so
    the log reads back every completed event in order, the new one included."""
    import signal
    import subprocess
    import sys
    import time

    from pipeline.signoff.audit_log import append, audit_path, read

    append(tmp_path, "approval", approver="Cne Martin")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    deadline = time.monotonic() + 20
    while len(audit_path(tmp_path).read_bytes()) < 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    raw = audit_path(tmp_path).read_bytes()
    _lines_whole_but_the_last(raw)
    killed = read(tmp_path)
    assert len(killed) > 20 and killed[0]["event"] == "approval"
    assert [e["n"] for e in killed[1:]] == list(range(len(killed) - 1))
    append(tmp_path, "approval", approver="Lt Durand")
    raw = audit_path(tmp_path).read_bytes()
    assert raw.endswith(b"\n")
    _lines_whole_but_the_last(raw)
    events = read(tmp_path)
    assert events[:-1] == killed and events[-1]["approver"] == "Lt Durand"


def test_append_after_a_torn_line_keeps_the_new_event_whole(tmp_path):
    """The torn tail kill -9 can leave (the start of a line, no newline): the next event is still
    read back whole, and the fragment stays a line of its own."""
    from pipeline.signoff.audit_log import append, audit_path, read

    append(tmp_path, "approval", approver="Cne Martin")
    with audit_path(tmp_path).open("ab") as f:
        f.write(b'{"at": "2026-12-06T01:27:13+00:00", "event": "render", "pad": "xxxx')
    append(tmp_path, "publication", networks=["tiktok"])
    raw = audit_path(tmp_path).read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 3
    assert [e["event"] for e in read(tmp_path)] == ["approval", "publication"]


def test_appends_from_several_processes_never_interleave(tmp_path):
    import subprocess
    import sys

    from pipeline.signoff.audit_log import audit_path, read

    writer = WRITER.replace("while True:", "while i < 150:").replace("n=i", "w=int(sys.argv[2]), n=i")
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(tmp_path), str(w)]) for w in range(3)]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0, 0]
    raw = audit_path(tmp_path).read_bytes()
    assert raw.count(b"\n") == 450 and raw.endswith(b"\n")
    events = read(tmp_path)
    assert len(events) == 450
    for w in range(3):
        assert [e["n"] for e in events if e["w"] == w] == list(range(150))


def test_batch_up_to_date_test_uses_the_same_fingerprint(episode, tmp_path, monkeypatch):
    """The batch's record is compared with fingerprint_inputs: a new face model re-renders; a file's
    modification time or an unrelated file in the folder changes nothing."""
    import os

    from pipeline.campaign.jobs import plan_episode, write_record
    from pipeline.core.cache import cache_dir, sha256_file
    from pipeline.faces.detectors.centerface import model_path

    options = RenderOptions(networks=("youtube-shorts",), out_dir=tmp_path / "out")
    first = plan_episode(episode, options, False, str(cache_dir()))
    assert not first.error and first.inputs["face_model"]
    write_record(tmp_path / "out", "ep", "youtube-shorts", first.fingerprint, first.inputs, [], 1.0)
    os.utime(episode / "1.mp4", (5, 5))
    (episode / "notes.txt").write_text("rien\n", "utf-8")
    again = plan_episode(episode, options, False, str(cache_dir()))
    assert again.fingerprint == first.fingerprint
    assert again.stale == {"youtube-shorts": "outputs missing or incomplete"}   # no files: only that
    other = tmp_path / "other.onnx"
    other.write_bytes(model_path().read_bytes() + b"\0")
    monkeypatch.setenv("CADRE_FACE_MODEL", str(other))
    monkeypatch.setenv("CADRE_FACE_MODEL_SHA256", sha256_file(other))
    changed = plan_episode(episode, options, False, str(cache_dir()))
    assert changed.stale == {"youtube-shorts": "face_model changed"}
