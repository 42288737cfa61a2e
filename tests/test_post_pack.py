"""The post pack in a real render: post.txt and post.json beside each network's file, a blocked
post publishes nothing for its network (the others go on), the audit log holds the post's sha256,
the sign-off covers every network's post, and contacts said in the captions are checked."""
from __future__ import annotations

import hashlib
import html
import json

import pytest

from pipeline import approve, status
from pipeline.campaign.report import Row, fill_from_outputs, write_report
from pipeline.core.errors import CadreError
from pipeline.core.networks import load_networks
from pipeline.orchestrator import RenderOptions, prepare, render_episode
from pipeline.post.pack import episode_posts
from pipeline.signoff.audit_log import latest, read
from pipeline.source.episode import load_episode
from pipeline.speech.transcript import Word
from tests.test_review_fixtures import face_clip, make_episode

HANDLES = """
[unit]
tiktok = "gendarmerie35"
instagram-reels = "gendarmerie35"
youtube-shorts = "gendarmerie35"

[contacts]
phones = ["02 99 32 45 00"]
domains = ["gendarmerie.interieur.gouv.fr"]

[[handle]]
handle = "@prefet35"
network = "all"
vetted_by = "Adj. Martin"
vetted_on = 2026-11-02
"""
CAMPAIGN = """
[post]
hashtags = ["#Gendarmerie", "#AppelÀTémoins"]
cta = "Vous avez vu quelque chose ? Appelez le 17 ou la brigade au 02 99 32 45 00."
link = "https://www.gendarmerie.interieur.gouv.fr/bretagne"
"""
EPISODE = """
[post]
text = "Le {date}, un cycliste a été renversé près de la gare. Merci à @prefet35 pour le relais."
date = 2026-12-05
title = "{title} : un cycliste renversé près de la gare, le conducteur a pris la fuite sans s'arrêter ni prévenir"

[post.networks.tiktok]
hashtags = ["#Gendarmerie"]
"""


def campaign(tmp_path, episode_toml=EPISODE):
    """An episode (title "Revue", tiktok and youtube-shorts) in a campaign with handles and post defaults."""
    root = tmp_path / "campaign"
    folder = make_episode(root, toml=episode_toml)
    face_clip(folder / "1.mp4", seconds=3.5)          # TikTok takes 3 s or more
    (root / "handles.toml").write_text(HANDLES, "utf-8")
    (root / "campaign.toml").write_text(CAMPAIGN, "utf-8")
    return folder


def test_render_writes_each_networks_post_and_refuses_a_blocked_one(tmp_path):
    folder = campaign(tmp_path)
    result = render_episode(folder, RenderOptions(redact="none"))
    out = tmp_path / "campaign" / "exports" / folder.name
    # youtube's title is over its 100 characters: nothing published for it, tiktok goes on
    assert list(result["reports"]) == ["tiktok"] and not (out / "youtube-shorts").exists()
    assert "title" in result["refused"]["youtube-shorts"] and "100" in result["refused"]["youtube-shorts"]
    text = (out / "tiktok" / "post.txt").read_text("utf-8")
    assert text == ("Le 5 décembre 2026, un cycliste a été renversé près de la gare. Merci à @prefet35 pour le relais.\n\n"
                    "Vous avez vu quelque chose ? Appelez le 17 ou la brigade au 02 99 32 45 00.\n"
                    "https://www.gendarmerie.interieur.gouv.fr/bretagne\n\n#Gendarmerie\n")
    meta = json.loads((out / "tiktok" / "post.json").read_text("utf-8"))
    assert meta["text"] == text and meta["blocked"] is False and meta["findings"] == []
    assert meta["hashtags"] == ["#Gendarmerie"] and meta["network"] == "tiktok"
    report = json.loads((out / "tiktok" / "report.json").read_text("utf-8"))
    assert report["post"]["sha256"] == meta["sha256"] and report["post"]["files"] == ["post.txt", "post.json"]
    # the publication's audit line holds the post's sha256 beside the video's
    published = latest(read(out), "publication")["files"]
    assert published["tiktok/post.txt"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert "tiktok/" + f"{folder.name}.mp4" in published
    # cadre status lists each network's post and what blocks it
    rows = {r.network: r for r in status(folder).rows}
    assert rows["tiktok"].post["text"] == text and rows["tiktok"].post["sha256"] == meta["sha256"]
    assert rows["tiktok"].files["tiktok/post.txt"] == published["tiktok/post.txt"]
    assert any(w.startswith("post blocked: title: the title is 102 characters") for w in rows["youtube-shorts"].warnings)
    # campaign.html shows the published post and links its files
    row = fill_from_outputs(Row(folder.name, "tiktok", "done"), out.parent, folder)
    page = write_report(out.parent, "campaign", [row])[1].read_text("utf-8")
    assert 'href="ep/tiktok/post.txt"' in page and "<summary>post</summary>" in page
    assert html.escape("Le 5 décembre 2026, un cycliste a été renversé") in page


def test_sign_off_covers_every_networks_post(tmp_path):
    folder = campaign(tmp_path, EPISODE.replace(
        "{title} : un cycliste renversé près de la gare, le conducteur a pris la fuite sans s'arrêter ni prévenir",
        "{title} : un cycliste renversé"))
    approve(folder, "Cne Martin")
    prepare(folder, RenderOptions(require_approval=True))
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text("utf-8").replace('hashtags = ["#Gendarmerie"]', 'hashtags = ["#Gendarmerie", "#Rennes"]'),
                    "utf-8")
    with pytest.raises(CadreError, match="changed since Cne Martin approved it") as err:
        prepare(folder, RenderOptions(require_approval=True))
    assert "post tiktok" in str(err.value) and "post youtube-shorts" not in str(err.value)
    # a campaign-wide default changes every network's post
    (tmp_path / "campaign" / "campaign.toml").write_text(CAMPAIGN.replace("Appelez le 17", "Appelez vite le 17"), "utf-8")
    with pytest.raises(CadreError) as err:
        prepare(folder, RenderOptions(require_approval=True))
    assert "post tiktok" in str(err.value) and "post youtube-shorts" in str(err.value)


def test_contacts_said_in_the_captions_are_checked(tmp_path):
    folder = campaign(tmp_path)
    episode = load_episode(folder)
    networks = load_networks(["tiktok"])
    said = [Word(0.0, 0.4, " Appelez"), Word(0.4, 0.6, " la"), Word(0.6, 1.0, " brigade"), Word(1.0, 1.2, " au"),
            Word(1.2, 2.5, " 02 99 32 45 01.")]
    found = episode_posts(episode, networks, said, "fr")["tiktok"]
    assert found.blocked and [f.line for f in found.findings] == ["captions at 0:00.0"]
    assert "02 99 32 45 01" in found.reason() and "one digit off" in found.reason()
    good = [Word(0.0, 0.4, " Appelez"), Word(0.4, 0.6, " le"), Word(0.6, 1.0, " 17.")]
    assert not episode_posts(episode, networks, good, "fr")["tiktok"].blocked


def test_a_bad_post_table_is_one_line(tmp_path):
    folder = campaign(tmp_path, '[post]\ntext = "Le {jour}, rien."\n')
    with pytest.raises(CadreError, match=r"episode.toml: key 'post.text': \{jour\} is not a field"):
        episode_posts(load_episode(folder), load_networks(["tiktok"]))
    folder = campaign(tmp_path / "b", '[post]\nhashtag = ["#x"]\n')
    with pytest.raises(CadreError, match="key 'post.hashtag': unknown key"):
        episode_posts(load_episode(folder), load_networks(["tiktok"]))
