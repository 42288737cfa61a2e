"""What the post pack and content credentials add to a 60 s render (target: 2 % or less of its wall time).

    python benchmarks/bench_post_pack.py [--seconds 60] [--end-to-end]

A 60 s 1080p episode (synthetic picture and tone; masking and captions off, so the render is as
short as it gets and the share measured is the largest) is rendered for the five networks with
provenance off. The steps the post pack and signing add are then timed on its outputs, exactly as
the render runs them: every network's post built and checked (spelling, handles, contacts),
``post.txt``/``post.json`` written, and each MP4 and cover signed with an ES256 key (C2PA,
the file hashed and rewritten). ``--end-to-end`` also renders again with provenance = "sign" and
compares the two wall times (noisier: two renders on a shared machine).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POST = """
[post]
text = "Appel à témoins : le {date}, un cycliste a été renversé avenue Janvier. Merci à @prefet35 pour le relais."
date = 2026-12-05
title = "Appel à témoins : cycliste renversé"
hashtags = ["#AppelÀTémoins", "#Gendarmerie", "#SécuritéRoutière"]
cta = "Vous avez vu quelque chose ? Appelez le 17 ou la brigade au 02 99 32 45 00."
link = "https://www.gendarmerie.interieur.gouv.fr/bretagne"
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--end-to-end", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("CADRE_X264_PRESET", "superfast")
    from pipeline import RenderOptions, render_episode
    from pipeline.captions.spelling import dictionary
    from pipeline.core.ffmpeg import run
    from pipeline.core.networks import load_networks
    from pipeline.post.pack import episode_posts, write_post
    from pipeline.post.provenance import preflight, sign_outputs
    from pipeline.source.episode import load_episode
    from tests.test_post_pack import HANDLES
    from tests.test_provenance import make_keys

    with tempfile.TemporaryDirectory(prefix="cadre-bench-post-") as tmp:
        root = Path(tmp) / "campaign"
        ep = root / "ep"
        ep.mkdir(parents=True)
        run(["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={args.seconds}", "-f", "lavfi", "-i",
             f"sine=frequency=440:duration={args.seconds}", "-c:v", "libx264", "-preset", "superfast",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(ep / "1.mp4")], source=ep, what="bench clip")
        keys = make_keys(Path(tmp) / "keys")
        (root / "handles.toml").write_text(HANDLES, "utf-8")
        settings = (f'redaction = "none"\ncaption_style = "none"\n'
                    f'[signing]\nunit = "Bench"\nkey = "{keys["key"]}"\ncerts = "{keys["chain"]}"\n')
        (ep / "episode.toml").write_text(settings + POST, "utf-8")
        t = time.monotonic()
        result = render_episode(ep, RenderOptions())
        render_s = time.monotonic() - t
        out = Path(result["out_dir"])
        names = list(result["reports"])
        print(f"render of a {args.seconds:.0f} s episode for {len(names)} networks, provenance off: {render_s:.1f} s")

        (ep / "episode.toml").write_text('provenance = "sign"\n' + settings + POST, "utf-8")
        episode = load_episode(ep)
        work = Path(tmp) / "work"
        shutil.copytree(out, work)
        t = time.monotonic()
        dictionary()                      # loaded once per process, shared with the caption spelling check
        words_s = time.monotonic() - t
        t = time.monotonic()
        posts = episode_posts(episode, load_networks(names), [], "fr")
        check_s = time.monotonic() - t
        t = time.monotonic()
        signing, _ = preflight(episode.settings, ep)
        sizes = 0
        for name in names:
            report = json.loads((work / name / "report.json").read_text("utf-8"))
            write_post(posts[name], work / name)
            sign_outputs(work / name, report["outputs"], signing, "bench", report)
            sizes += sum(o["size_bytes"] for o in report["outputs"])
        sign_s = time.monotonic() - t
        added = check_s + sign_s
        share = 100 * added / render_s
        print(f"posts of {len(names)} networks built and checked: {check_s:.2f} s; post.txt/post.json written and "
              f"{len(names)} MP4s ({sizes / 1e6:.0f} MB) + {len(names)} covers signed: {sign_s:.2f} s")
        print(f"added by the post pack and signing: {added:.2f} s = {share:.2f} % of the render "
              f"(target <= 2 %: {'met' if share <= 2 else 'MISSED'})")
        print(f"the spelling dictionary, when no caption was checked before: {words_s:.2f} s more "
              f"({100 * (added + words_s) / render_s:.2f} % in all)")
        if args.end_to_end:
            shutil.rmtree(out)
            t = time.monotonic()
            render_episode(ep, RenderOptions())
            signed_s = time.monotonic() - t
            print(f"end to end: provenance off {render_s:.1f} s, sign {signed_s:.1f} s "
                  f"({100 * (signed_s - render_s) / render_s:+.1f} %, two renders on a shared machine)")


if __name__ == "__main__":
    main()
