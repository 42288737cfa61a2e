"""``cadre review``: the local review page (Starlette app, served by uvicorn on 127.0.0.1 only).

Every request passes :class:`Guard` first:

- the first path segment must be the session's random token (``/<token>/...``), compared in
  constant time; anything else is refused, so another local program or web page cannot guess
  its way in;
- ``Host`` must be ``127.0.0.1:<port>`` or ``localhost:<port>`` and ``Origin``, when sent, the same
  origin: a foreign name pointing at 127.0.0.1 (DNS rebinding) or a cross-site request is refused;
- requests that change files must be JSON (a plain HTML form cannot send them);
- every answer carries a strict Content-Security-Policy (scripts only from this server, no
  inline script), ``no-store`` and ``no-referrer``; the page writes caption text with
  ``textContent`` only, so text holding HTML or script is shown, never run.

Files are only read by exact clip name (one of the episode's clips) or, for ``/files/``, by a path
that resolves inside the episode folder.
"""
from __future__ import annotations

import hmac
import json
import math
import secrets
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from pipeline.core.crash import internal_error
from pipeline.core.errors import CadreError, NotFound, write_failed
from pipeline.orchestrator import approve_episode
from pipeline.review import edits, protect
from pipeline.review.edits import MAX_SECONDS
from pipeline.review.frames import frame_index, grab, jpeg, track_thumbnail
from pipeline.review.pictures import PublishedPictures
from pipeline.review.post_edit import save_post
from pipeline.review.proxy import ProxyJob
from pipeline.review.session import ReviewSession

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"app.js": "text/javascript", "protect.js": "text/javascript", "post.js": "text/javascript",
                "app.css": "text/css"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self'; "
       "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"),
                    (b"x-frame-options", b"DENY"), (b"cross-origin-resource-policy", b"same-origin")]
SAFE_METHODS = ("GET", "HEAD")


class Guard:
    """ASGI middleware: token, Host and Origin checks, then the app with the token stripped."""

    def __init__(self, app, token: str, port: int):
        self.app, self.token = app, token
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                return await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem:
            return await _refuse(send, *problem)
        rest = scope["path"][len(self.token) + 1:]
        if rest == "":
            return await RedirectResponse(f"/{self.token}/", 307)(scope, receive, send)
        inner = dict(scope, path=rest, raw_path=rest.encode("utf-8"), root_path="")

        async def secured(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + SECURITY_HEADERS)
            await send(message)

        await self.app(inner, receive, secured)

    def _problem(self, scope, headers) -> tuple[int, str] | None:
        if headers.get("host", "") not in self.hosts:
            return 403, "refused: this page answers only to 127.0.0.1 (foreign Host header)"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return 403, "refused: cross-origin request"
        if headers.get("sec-fetch-site") == "cross-site":
            return 403, "refused: cross-site request"
        segment = scope["path"].split("/", 2)[1] if scope["path"].startswith("/") else ""
        if not hmac.compare_digest(segment.encode("utf-8", "replace"), self.token.encode()):
            return 403, "refused: open the address cadre review printed (it holds the session token)"
        if scope["method"] not in SAFE_METHODS:
            if not headers.get("content-type", "").startswith("application/json"):
                return 415, "refused: changes must be sent as JSON"
        return None


async def _refuse(send, status: int, text: str):
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())] + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})


MAX_NAME = 200          # characters in an approver's name
MAX_BODY = 1024 * 1024   # bytes in one request: a whole episode's captions fit many times over


class TooLarge(CadreError):
    http_status = 413


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def inside(folder: Path, relative: str) -> Path:
    """``relative`` resolved inside ``folder``; CadreError if it leaves it (``..``, absolute, links)."""
    root = folder.resolve()
    if "\x00" in relative:
        raise CadreError(relative, "invalid path")
    target = (root / relative).resolve()
    if target != root and not target.is_relative_to(root):
        raise NotFound(relative, "refused: the path leaves the episode folder")
    return target


def create_app(session, token: str, port: int, proxy: ProxyJob | None = None):
    """The review app for ``session`` (a :class:`~pipeline.review.session.ReviewSession`)."""
    pictures = PublishedPictures(session)

    def error(exc: Exception, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status)

    async def body(request: Request) -> dict:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise TooLarge("request", f"the body is over {MAX_BODY // 1024} KB; send smaller edits")
        try:
            data = json.loads(bytes(raw) or b"{}", parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise CadreError("request", "the body is not valid JSON (finite numbers only, no NaN or Infinity)") from None
        if not isinstance(data, dict):
            raise CadreError("request", "the body must be a JSON object")
        return data

    def endpoint(fn):
        async def handler(request: Request):
            try:
                return await fn(request)
            except CadreError as exc:
                return error(exc, exc.http_status)
            except OSError as exc:    # a save on a full disk or a lost folder: one line, the file as it was
                return error(write_failed(exc, session.folder), 507)
            except Exception as exc:  # a bug: one line and a log file, never a traceback page
                line = await run_in_threadpool(internal_error, exc, f"cadre review: {request.method} {request.url.path}")
                return JSONResponse({"error": line}, 500)
        return handler

    async def index(request):
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def static(request):
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return PlainTextResponse("not found", 404)
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name])

    async def state(request):
        data = await run_in_threadpool(session.state)
        data["proxy"] = proxy.to_dict() if proxy else None
        data["published"] = await run_in_threadpool(pictures.key)   # changes when the published picture may
        return JSONResponse(data)

    async def captions(request):
        data = await body(request)
        clip = session.clip(data.get("clip"))
        cues = edits.parse_cues(data.get("cues"), clip.srt.name)
        changed = await run_in_threadpool(session.save_cues, clip, cues)
        return JSONResponse({"saved": clip.srt.name, "changed": changed})

    async def replace_all(request):
        data = await body(request)
        counts = await run_in_threadpool(session.replace_all, data.get("find"), data.get("replace", ""),
                                         bool(data.get("whole_word", True)), bool(data.get("case", False)))
        return JSONResponse({"replaced": counts, "total": sum(counts.values())})

    async def track(request):
        data = await body(request)
        clip = session.clip(data.get("clip"))
        ids = {t.id for t in (clip.analysis.faces.tracks if clip.analysis.faces else [])}
        if not isinstance(data.get("track"), str) or data.get("track") not in ids:
            raise CadreError(clip.name, f"no face track {data.get('track')!r} in this clip")
        with session.lock:
            edits.set_track_kept(session.masks_path, clip.name, data["track"], bool(data.get("keep")),
                                 session.check_masks)
        return JSONResponse({"saved": "masks.toml"})

    async def mask(request):
        data = await body(request)
        clip = session.clip(data.get("clip"))
        with session.lock:
            edits.add_mask(session.masks_path, clip.name, data.get("region"), data.get("start", clip.span.start),
                           data.get("end"), str(data.get("label") or ""), session.check_masks,
                           data.get("whole_frame") is True, data.get("moving") is True)
        return JSONResponse({"saved": "masks.toml"})

    async def mask_remove(request):
        data = await body(request)
        with session.lock:
            edits.remove_mask(session.masks_path, data.get("index"), session.check_masks)
        return JSONResponse({"saved": "masks.toml"})

    async def bleep(request):
        data = await body(request)
        path = session.folder / "episode.toml"
        if not isinstance(data.get("term"), str):
            raise CadreError("bleep", "term must be one word or phrase (a string), not a list or a number")
        with session.lock:
            if data.get("remove"):
                changed = edits.remove_bleep(path, data.get("term"), session.check_settings)
            else:
                changed = edits.add_bleep(path, data.get("term"), session.check_settings)
        return JSONResponse({"saved": "episode.toml", "changed": changed})

    async def post(request):
        data = await body(request)
        with session.lock:
            save_post(session.folder, data.get("network") or "", data.get("key"), data.get("value"), session.networks)
        return JSONResponse({"saved": "episode.toml"})

    async def approve(request):
        data = await body(request)
        by = data.get("by") or ""
        if not isinstance(by, str) or len(by) > MAX_NAME:
            raise CadreError("by", f"the approver's name must be text of at most {MAX_NAME} characters")
        record = await run_in_threadpool(approve_episode, session.folder, by, session.options)
        return JSONResponse({"by": record.by, "at": record.at, "hash": record.hash})

    async def proxy_status(request):
        if proxy is None:
            return JSONResponse({"state": "off"})
        if request.method == "POST":
            proxy.start()
        return JSONResponse(proxy.to_dict())

    async def proxy_file(request):
        if proxy is None or not proxy.path.is_file():
            return PlainTextResponse("no proxy rendered yet", 404)
        return FileResponse(proxy.path, media_type="video/mp4")

    async def frame(request):
        clip = session.clip(request.query_params.get("clip"))
        try:
            t = float(request.query_params.get("t", clip.span.start))
        except ValueError:
            raise CadreError("t", "must be seconds of the clip") from None
        if not math.isfinite(t) or not 0 <= t <= MAX_SECONDS:
            raise CadreError("t", "must be seconds of the clip (a finite number >= 0)")
        data = await run_in_threadpool(lambda: jpeg(grab(clip.span, frame_index(clip.span, t), 640)))
        return Response(data, media_type="image/jpeg")

    async def thumb(request):
        clip = session.clip(request.query_params.get("clip"))
        faces = clip.analysis.faces
        tracks = {t.id: t for t in (faces.tracks if faces else [])}
        t = tracks.get(request.query_params.get("track"))
        if t is None:
            return PlainTextResponse("no such track", 404)
        data = await run_in_threadpool(track_thumbnail, clip.span, faces, t)
        return Response(data, media_type="image/jpeg")

    async def poster(request):
        """The player's picture before it plays: a frame as published (masked, captioned), never the source."""
        made = await run_in_threadpool(pictures.get)
        return Response(made.poster, media_type="image/jpeg")

    async def published(request):
        made = await run_in_threadpool(pictures.get)
        return Response(made.strip, media_type="image/jpeg")

    async def published_index(request):
        made = await run_in_threadpool(pictures.get)
        return JSONResponse({"key": made.key, "frames": made.frames})

    async def files(request):
        target = inside(session.folder, request.path_params["path"])
        hidden = any(part.startswith(".") for part in target.relative_to(session.folder.resolve()).parts)
        if not target.is_file() or hidden:        # no dot-files, nor files inside dot-folders
            return PlainTextResponse("not found", 404)
        return FileResponse(target)

    routes = [
        Route("/", endpoint(index)), Route("/static/{name}", endpoint(static)),
        Route("/api/state", endpoint(state)),
        Route("/api/captions", endpoint(captions), methods=["POST"]),
        Route("/api/replace", endpoint(replace_all), methods=["POST"]),
        Route("/api/track", endpoint(track), methods=["POST"]),
        Route("/api/mask", endpoint(mask), methods=["POST"]),
        Route("/api/mask/remove", endpoint(mask_remove), methods=["POST"]),
        Route("/api/bleep", endpoint(bleep), methods=["POST"]),
        Route("/api/approve", endpoint(approve), methods=["POST"]),
        Route("/api/post", endpoint(post), methods=["POST"]),
        Route("/api/proxy", endpoint(proxy_status), methods=["GET", "POST"]),
        Route("/proxy.mp4", endpoint(proxy_file)),
        Route("/frame", endpoint(frame)), Route("/thumb", endpoint(thumb)),
        Route("/poster.jpg", endpoint(poster)), Route("/published.jpg", endpoint(published)),
        Route("/api/published", endpoint(published_index)),
        Route("/files/{path:path}", endpoint(files)),
        *protect.routes(session, body, endpoint),
    ]
    return Guard(Starlette(routes=routes), token, port)


@dataclass
class ReviewServer:
    """A review session served on 127.0.0.1 in a background thread (``cadre review`` blocks on it)."""

    folder: Path
    port: int = 0
    proxy: bool = True               # render the proxy now (the page can ask again later)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def __post_init__(self):
        self.session = ReviewSession(Path(self.folder))
        self.workdir = Path(tempfile.mkdtemp(prefix="cadre-review-"))
        self.proxy_job = ProxyJob(self.session.folder, self.workdir, self.session.options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", self.port))
        except OSError as exc:
            self.sock.close()
            raise CadreError(f"--port {self.port}", f"cannot listen on 127.0.0.1 ({exc.strerror}); "
                                                    "choose another port or leave it out") from None
        self.port = self.sock.getsockname()[1]
        self.app = create_app(self.session, self.token, self.port, self.proxy_job)
        self._thread = None
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.token}/"

    def _uvicorn(self):
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        return self._server

    def serve_forever(self) -> None:
        if self.proxy:
            self.proxy_job.start()
        try:
            self._uvicorn().run(sockets=[self.sock])
        finally:
            self.close()

    def start(self) -> "ReviewServer":
        server = self._uvicorn()
        if self.proxy:
            self.proxy_job.start()
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self._thread.start()
        import time

        for _ in range(200):
            if server.started:
                break
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)
