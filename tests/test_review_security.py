"""The review server refuses what does not come from its own page: each rule is one test, against
the real server (uvicorn on 127.0.0.1) with raw HTTP requests, headers set by hand."""
from __future__ import annotations

import http.client
import json

import pytest

pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
pytest.importorskip("uvicorn", reason="cadre review needs uvicorn (pip install 'cadre[review]')")
pytest.importorskip("tomlkit", reason="cadre review needs tomlkit (pip install 'cadre[review]')")

from pipeline.review.server import ReviewServer  # noqa: E402
from tests.test_review_fixtures import make_episode  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = make_episode(tmp_path_factory.mktemp("review-security"))
    (folder.parent / "secret.txt").write_text("outside the episode", "utf-8")
    srv = ReviewServer(folder, proxy=False).start()
    yield srv
    srv.stop()


def request(srv, path: str, method="GET", headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    hdrs = {"Host": f"127.0.0.1:{srv.port}", **(headers or {})}
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    data = json.dumps(body).encode() if body is not None else b""
    if body is not None:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    res = conn.getresponse()
    out = res.status, res.read().decode("utf-8", "replace"), dict(res.getheaders())
    conn.close()
    return out


def test_binds_to_loopback_only(server):
    assert server.sock.getsockname()[0] == "127.0.0.1"
    assert server.url.startswith(f"http://127.0.0.1:{server.port}/") and server.token in server.url


def test_with_the_token_the_page_answers(server):
    status, body, headers = request(server, f"/{server.token}/api/state")
    assert status == 200 and json.loads(body)["episode"] == "ep"
    assert "script-src 'self'" in headers["content-security-policy"]


def test_no_token_is_refused(server):
    for path in ("/", "/api/state", "/static/app.js", "/files/1.fr.srt"):
        status, body, _ = request(server, path)
        assert status == 403, path
        assert "Bonjour" not in body


def test_wrong_token_is_refused(server):
    wrong = server.token[:-1] + ("A" if server.token[-1] != "A" else "B")
    status, _, _ = request(server, f"/{wrong}/api/state")
    assert status == 403


def test_foreign_host_is_refused(server):
    """DNS rebinding: evil.example resolving to 127.0.0.1 sends its own name as Host."""
    for host in (f"evil.example:{server.port}", "evil.example", f"127.0.0.1:{server.port + 1}"):
        status, body, _ = request(server, f"/{server.token}/api/state", headers={"Host": host})
        assert status == 403, host
        assert "Host" in body


def test_foreign_origin_is_refused(server):
    folder = server.session.folder
    before = (folder / "1.fr.srt").read_text("utf-8")
    for origin in ("http://evil.example", f"http://evil.example:{server.port}", "null"):
        status, _, _ = request(server, f"/{server.token}/api/replace", "POST",
                               {"Origin": origin, "Content-Type": "application/json"},
                               {"find": "Dupond", "replace": "X"})
        assert status == 403, origin
    status, _, _ = request(server, f"/{server.token}/api/state", headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert (folder / "1.fr.srt").read_text("utf-8") == before


def test_changes_must_be_json(server):
    """A plain HTML form (no preflight) cannot send application/json."""
    status, _, _ = request(server, f"/{server.token}/api/approve", "POST",
                           {"Content-Type": "application/x-www-form-urlencoded"}, {"by": "x"})
    assert status == 415
    assert not (server.session.folder / "approval.json").exists()


@pytest.mark.parametrize("path", ["files/../secret.txt", "files/%2e%2e/secret.txt", "files/..%2fsecret.txt",
                                  "files/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "files//etc/passwd",
                                  "frame?clip=../secret.txt&t=0", "thumb?clip=%2e%2e%2fsecret.txt&track=x"])
def test_path_traversal_is_refused(server, path):
    status, body, _ = request(server, f"/{server.token}/{path}")
    assert status in (400, 404)
    assert "outside the episode" not in body and "root:" not in body


def test_files_inside_the_episode_are_served(server):
    status, body, _ = request(server, f"/{server.token}/files/1.fr.srt")
    assert status == 200 and "Bonjour" in body


def test_caption_html_is_saved_literally_and_read_as_render_reads_it(server):
    """What a person types is stored as typed in the SRT; the page shows the caption render will burn,
    as JSON data (the page inserts it as text, never as markup). Render burns a typed <script> literally
    (issue 15: never a style code, never silently dropped words)."""
    from pipeline.captions.corrections import human_cues

    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    status, _, _ = request(server, f"/{server.token}/api/captions", "POST", {"Content-Type": "application/json"},
                           {"clip": "1.mp4", "cues": [{"start": 0.1, "end": 0.9, "text": evil}]})
    assert status == 200
    srt = (server.session.folder / "1.fr.srt").read_text("utf-8")
    assert evil in srt
    status, body, headers = request(server, f"/{server.token}/api/state")
    assert headers["content-type"].startswith("application/json")
    shown = json.loads(body)["clips"][0]["cues"][0]["text"]
    assert shown == human_cues(server.session.folder / "1.fr.srt")[0].text == evil
