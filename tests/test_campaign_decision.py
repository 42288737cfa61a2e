"""Issue 20: campaign.html says what the person deciding to publish needs, from the files a render left."""
from __future__ import annotations

import html
import json

from pipeline.campaign.decision import render_html, summarise


def test_decision_reads_masking_bleeps_doubtful_words_and_checks(tmp_path):
    ep_out = tmp_path / "exports" / "ep"
    net = ep_out / "tiktok"
    net.mkdir(parents=True)
    report = {"outputs": [{"file": "ep.mp4", "loudness": {"integrated_lufs": -14.1, "true_peak_dbtp": -2.3},
                           "checks": [{"name": "duration", "ok": True}, {"name": "loudness", "ok": True}]}],
              "redaction": {"method": "mosaic", "clips": {"1.mp4": {"tracks": [
                  {"id": "t1", "masked_seconds": [1.0, 4.5], "kept_visible": False},
                  {"id": "t2", "masked_seconds": [2.0, 3.0], "kept_visible": True}]}},
                  "overrides": {"entries": [{"kind": "mask_region", "clip": "1.mp4", "start": 2.0, "end": 6.5,
                                             "label": "<plate>"}]},
                  "bleeps": {"spans": [{"start": 3.2, "end": 3.6}]}}}
    (net / "report.json").write_text(json.dumps(report))
    (ep_out / "plan.json").write_text(json.dumps({"words": [
        {"start": 0.5, "end": 0.8, "word": " bonjour", "probability": 0.95},
        {"start": 1.5, "end": 1.9, "word": " gendarmerie<", "probability": 0.31},
        {"start": 3.2, "end": 3.6, "word": "***", "probability": 0.2}]}))
    d = summarise(net, None)
    assert [w["word"] for w in d["doubtful_words"]] == ["gendarmerie<"]
    assert d["checks"]["passed"] == ["duration", "loudness"] and not d["checks"]["failed"]
    page = render_html(d, html.escape)
    assert "faces masked: 1: 1.mp4 #t1 0:01.0-0:04.5" in page
    assert "left visible by a person: 1.mp4 #t2" in page
    assert "&lt;plate&gt;" in page and "<plate>" not in page
    assert "bleeped: 1: 0:03.2" in page
    assert "gendarmerie&lt;" in page and "checks passed: duration, loudness (-14.1 LUFS)" in page


def test_no_report_no_decision(tmp_path):
    assert summarise(tmp_path / "nothing", None) == {}
    assert render_html({}, html.escape) == ""
