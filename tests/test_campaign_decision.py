"""Issue 20: campaign.html says what the person deciding to publish needs, from the files a render left."""
from __future__ import annotations

import json

from pipeline.campaign.decision import bleeps_in_context, summarise
from pipeline.campaign.page import render_html
from pipeline.campaign.report import Row, fill_from_outputs

REPORT = {"outputs": [{"file": "ep.mp4", "duration_s": 7.5, "size_bytes": 1_500_000,
                       "loudness": {"integrated_lufs": -14.1, "true_peak_dbtp": -2.3},
                       "checks": [{"name": "duration", "ok": True}, {"name": "loudness", "ok": True}]}],
          "redaction": {"method": "mosaic", "clips": {"1.mp4": {"tracks": [
              {"id": "t1", "masked_seconds": [1.0, 4.5], "kept_visible": False},
              {"id": "t2", "masked_seconds": [2.0, 3.0], "kept_visible": True}]}},
              "overrides": {"entries": [{"kind": "mask_region", "clip": "1.mp4", "start": 2.0, "end": 6.5,
                                         "label": "<plate>"}]},
              "bleeps": {"spans": [{"start": 3.2, "end": 3.6}]}}}
WORDS = [{"start": 0.5, "end": 0.8, "word": " bonjour", "probability": 0.95},
         {"start": 1.5, "end": 1.9, "word": " gendarmerie<", "probability": 0.31},
         {"start": 2.0, "end": 3.1, "word": " monsieur", "probability": 0.9},
         {"start": 3.2, "end": 3.6, "word": "***", "probability": 0.2},
         {"start": 3.7, "end": 4.0, "word": " habite", "probability": 0.9}]


def exports(tmp_path):
    out = tmp_path / "exports"
    net = out / "ep" / "tiktok"
    net.mkdir(parents=True)
    (net / "report.json").write_text(json.dumps(REPORT))
    (net / "ep.mp4").write_bytes(b"x")
    (out / "ep" / "plan.json").write_text(json.dumps({"title": "Épisode <1>", "words": WORDS}))
    return out, net


def test_decision_reads_masking_bleeps_doubtful_words_and_checks(tmp_path):
    _, net = exports(tmp_path)
    d = summarise(net, None)
    assert [w["word"] for w in d["doubtful_words"]] == ["gendarmerie<"]
    assert d["doubtful_words"][0]["at"] == 1.5
    assert d["checks"]["passed"] == ["duration", "loudness"] and not d["checks"]["failed"]
    assert d["checks"]["loudness_lufs"] == -14.1 and d["checks"]["true_peak_dbtp"] == -2.3
    assert [t["id"] for t in d["masking"]["tracks"] if t["kept_visible"]] == ["t2"]


def test_bleeps_are_shown_by_time_and_the_words_around_them():
    spans = [{"start": 3.2, "end": 3.6}]
    assert bleeps_in_context({"words": WORDS}, spans, around=2) == [
        {"start": 3.2, "end": 3.6, "context": "gendarmerie< monsieur *** habite"}]


def test_page_section_escapes_and_says_what_to_decide(tmp_path):
    out, _ = exports(tmp_path)
    row = fill_from_outputs(Row("ep", "tiktok", "done", "rendered (first render)"), out)
    refused = Row("ep", "snapchat", "failed", "episode lasts 2.0 s but Snapchat Spotlight needs at least 5 s")
    page = render_html({"campaign": "c", "generated": "now", "cadre_version": "0", "executor": "local",
                        "counts": {"done": 1, "skipped": 0, "failed": 1},
                        "rows": [row.to_dict(), refused.to_dict()]}, out)
    assert "Épisode &lt;1&gt;" in page and "<1>" not in page
    assert "&lt;plate&gt;" in page and "<plate>" not in page and "gendarmerie&lt;" in page
    assert "faces masked: 1" in page and "faces left visible by a person (not pictured here): 1.mp4 #t2" in page
    assert "-14.1 LUFS, -2.3 dBTP" in page and "0:07.5" in page and "checks passed: duration, loudness" in page
    assert 'href="ep/tiktok/ep.mp4"' in page and 'href="ep/tiktok/report.json"' in page
    assert "ep.srt" not in page                       # no link to a file that is not there
    assert "Snapchat Spotlight needs at least 5 s" in page
    assert "0:03.2-0:03.6" in page and "monsieur *** habite" in page
    assert "<script" not in page


def test_no_report_no_decision(tmp_path):
    assert summarise(tmp_path / "nothing", None) == {}


def test_the_audit_list_decides_which_faces_were_left_visible(tmp_path):
    """``redaction.masked`` (one row per thing masked or kept, faces/audit.py) is read first: a face
    kept visible by a ``[[keep]]`` region is listed as visible even where the per-clip tracks are not."""
    net = tmp_path / "ep" / "tiktok"
    net.mkdir(parents=True)
    report = {"outputs": [], "redaction": {"method": "mosaic", "clips": {"1.mp4": {"tracks": [
        {"id": "t1", "masked_seconds": [0.0, 4.2], "kept_visible": []}]}}, "masked": [
        {"kind": "face", "clip": "1.mp4", "ref": "t1", "start": 0.0, "end": 4.2, "visible": True},
        {"kind": "region", "clip": "1.mp4", "ref": "[[mask]] #1", "start": 0.0, "end": 1.0}]}}
    (net / "report.json").write_text(json.dumps(report))
    assert summarise(net, None)["masking"]["tracks"] == [
        {"clip": "1.mp4", "id": "t1", "seconds": [0.0, 4.2], "kept_visible": True}]


def test_a_publication_that_is_not_the_approved_version_says_so(tmp_path):
    out, _ = exports(tmp_path)
    row = fill_from_outputs(Row("ep", "tiktok", "done", "rendered again (edits changed)"), out)
    row.decision["approval"] = {"state": "approved", "by": "Cne Martin", "at": "t", "networks": ["tiktok"],
                                "hash": "approved-hash"}
    data = {"campaign": "c", "generated": "now", "cadre_version": "0", "executor": "local",
            "counts": {"done": 1, "skipped": 0, "failed": 0}, "rows": [row.to_dict()]}
    row.decision["published"] = {"at": "t2", "os_user": "u", "fingerprint": "other-hash"}
    assert "published version differs from the approved one" in render_html({**data, "rows": [row.to_dict()]}, out)
    row.decision["published"]["fingerprint"] = "approved-hash"
    assert "approved (this version)" in render_html({**data, "rows": [row.to_dict()]}, out)
