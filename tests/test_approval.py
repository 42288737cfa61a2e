"""Sign-off: ``cadre approve`` records who and a hash; with approval required, render and batch
refuse an unapproved or changed episode and name what changed. No render runs here: the refusal
happens before any work, and an approved episode is only checked up to that point."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from pipeline import approve
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.signoff.approval import read_approval
from tests.test_review_fixtures import make_episode


@pytest.fixture
def episode(tmp_path):
    return make_episode(tmp_path / "campaign")


def check(folder, **kw):
    return prepare(folder, RenderOptions(require_approval=True, **kw))


def test_approve_records_reviewer_time_and_hash(episode):
    record = approve(episode, "  Cne   Martin ")
    data = json.loads((episode / "approval.json").read_text("utf-8"))
    assert data["by"] == "Cne Martin" and data["at"].endswith("+00:00") and len(data["hash"]) == 64
    assert data["networks"] == ["tiktok", "youtube-shorts"]
    assert set(data["inputs"]) >= {"clips", "edits", "settings", "presets", "cadre"}
    assert data["inputs"]["edits"]["1.fr.srt"] and "masks.toml" in data["inputs"]["edits"]
    assert read_approval(episode).hash == record.hash
    check(episode)                                   # unchanged: accepted
    check(episode, networks=("tiktok",))             # a network the approval covers


def test_unapproved_episode_is_refused(episode):
    with pytest.raises(CadreError, match="never approved"):
        check(episode)
    prepare(episode, RenderOptions())                # not required: fine


@pytest.mark.parametrize("change, named", [
    (lambda ep: (ep / "1.fr.srt").write_text((ep / "1.fr.srt").read_text("utf-8").replace("Dupond", "Dupont"), "utf-8"),
     "edited file 1.fr.srt"),
    (lambda ep: (ep / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.3, 0.3]\n', "utf-8"),
     "edited file masks.toml added"),
    (lambda ep: (ep / "episode.toml").write_text((ep / "episode.toml").read_text("utf-8") + 'bleep = ["Lilas"]\n', "utf-8"),
     "setting bleep"),
    (lambda ep: (ep / "1.mp4").write_bytes((ep / "1.mp4").read_bytes() + b"\0"), "clip 1.mp4 changed"),
])
def test_changed_episode_is_refused_naming_the_change(episode, change, named):
    approve(episode, "Cne Martin")
    change(episode)
    with pytest.raises(CadreError, match="changed since Cne Martin approved it") as err:
        check(episode)
    assert named in str(err.value) and str(err.value).startswith(str(episode / "approval.json"))


def test_cli_override_that_changes_the_output_is_named(episode):
    approve(episode, "Cne Martin")
    with pytest.raises(CadreError, match="setting caption_style"):
        check(episode, caption_style="none")


def test_network_outside_the_approval_is_refused(episode):
    approve(episode, "Cne Martin")
    with pytest.raises(CadreError, match="instagram-reels were not part of the approval"):
        check(episode, networks=("instagram-reels",))


def test_encoder_speed_does_not_void_the_approval(episode):
    approve(episode, "Cne Martin")
    check(episode, x264_preset="slow")


def test_campaign_requires_approval_for_render_and_batch(episode):
    from pipeline.campaign.batch import run_batch

    (episode.parent / "campaign.toml").write_text("require_approval = true\n", "utf-8")
    with pytest.raises(CadreError, match="never approved"):
        prepare(episode, RenderOptions())
    result = run_batch(episode.parent, RenderOptions(out_dir=episode.parent / "out"))
    assert result.failed and all("never approved" in r.reason for r in result.failed)
    assert not list((episode.parent / "out").glob("ep/*/*.mp4"))


def test_episode_cannot_turn_off_the_campaign_requirement(episode):
    (episode.parent / "campaign.toml").write_text("require_approval = true\n", "utf-8")
    (episode / "episode.toml").write_text('require_approval = false\n', "utf-8")
    with pytest.raises(CadreError, match="cannot turn it off"):
        prepare(episode, RenderOptions())


def test_cli_approve_then_render_refuses_a_change(episode):
    runner = CliRunner()
    out = runner.invoke(main, ["approve", str(episode), "--by", "Lt Durand"])
    assert out.exit_code == 0, out.output
    assert "approved by Lt Durand" in out.output
    (episode / "1.fr.srt").write_text("1\n00:00:00,100 --> 00:00:00,900\nAutre texte\n", "utf-8")
    out = runner.invoke(main, ["render", str(episode), "--require-approval", "-o", str(episode.parent / "out")])
    assert out.exit_code == 1
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cadre: error: ") and "edited file 1.fr.srt" in lines[0]
    # nothing published: the only file written is the audit log's line recording the refusal
    assert [p.name for p in (episode.parent / "out").rglob("*")] == ["ep", "audit.jsonl"]


def test_cli_approve_needs_a_name(episode):
    out = CliRunner().invoke(main, ["approve", str(episode), "--by", "  "])
    assert out.exit_code == 1 and "reviewer's name" in out.output
    assert not (episode / "approval.json").exists()


def test_broken_masks_file_cannot_be_approved(episode):
    (episode / "masks.toml").write_text('[[mask]]\nclip = "9.mp4"\nregion = [0.1, 0.1, 0.3, 0.3]\n', "utf-8")
    with pytest.raises(CadreError, match="not in the episode"):
        approve(episode, "Cne Martin")
    assert not (episode / "approval.json").exists()


def test_copied_episode_keeps_its_approval(episode, tmp_path):
    """The hash is of content, not paths or times: a copy of an approved episode is still approved."""
    approve(episode, "Cne Martin")
    copy = tmp_path / "elsewhere" / "ep"
    shutil.copytree(episode, copy)
    check(copy)
