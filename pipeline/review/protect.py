"""The review page's routes for what is protected beyond faces (issue 17), mounted by
:func:`pipeline.review.server.create_app`:

- ``POST api/voice`` / ``api/voice/remove``: add or remove a ``[[voice]]`` span in ``masks.toml``;
- ``GET voice.wav?clip=&start=&end=&preset=[&plain=1]``: the span played disguised (or as it is);
- ``GET api/path?index=``: the tracked path of moving ``[[mask]]`` number ``index``;
- ``POST api/mask/fix``: the region drawn again at one frame of a moving mask.
"""
from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.core.errors import CadreError
from pipeline.review import edits
from pipeline.review.paths import moving_entry, track, tracked_path
from pipeline.review.voices import preview_wav
from pipeline.source.normalize import FPS


def _seconds(value: str | None, name: str) -> float | None:
    if value in (None, "", "null"):
        return None
    try:
        out = float(value)
    except ValueError:
        raise CadreError(name, f"{value!r} must be seconds of the clip") from None
    if not math.isfinite(out) or not 0 <= out <= edits.MAX_SECONDS:
        raise CadreError(name, f"{value!r} must be seconds of the clip (a finite number >= 0)")
    return out


def _index(query: str | None) -> int:
    try:
        return int(query or "")
    except ValueError:
        raise CadreError("index", f"{query!r} must be the number of a [[mask]]") from None


def routes(session, body, endpoint) -> list[Route]:
    """``body``: the server's JSON body reader; ``endpoint``: its error-handling wrapper."""

    async def voice(request: Request):
        data = await body(request)
        clip = session.clip(data.get("clip"))
        with session.lock:
            edits.add_voice(session.masks_path, clip.name, data.get("start", clip.span.start), data.get("end"),
                            data.get("preset") or "low", str(data.get("label") or ""), session.check_masks)
        return JSONResponse({"saved": "masks.toml"})

    async def voice_remove(request: Request):
        data = await body(request)
        with session.lock:
            edits.remove_voice(session.masks_path, data.get("index"), session.check_masks)
        return JSONResponse({"saved": "masks.toml"})

    async def voice_wav(request: Request):
        q = request.query_params
        clip = session.clip(q.get("clip"))
        start = _seconds(q.get("start"), "start")
        data = await run_in_threadpool(preview_wav, clip.span, clip.name, clip.span.start if start is None else start,
                                       _seconds(q.get("end"), "end"), q.get("preset") or "low", q.get("plain") != "1")
        return Response(data, media_type="audio/wav")

    async def path(request: Request):
        index = _index(request.query_params.get("index"))
        entry = moving_entry(session.overrides(), index)
        clip = session.clip(entry.clip)
        return JSONResponse(await run_in_threadpool(tracked_path, clip.span, entry, index, session.masks_path))

    async def fix(request: Request):
        data = await body(request)
        index = data.get("index")
        entry = moving_entry(session.overrides(), index)
        clip = session.clip(entry.clip)

        def check():        # the file as render reads it, and the corrected region trackable (>= 8 px)
            session.check_masks()
            ov = session.overrides()
            for e in ov.entries:
                if e.moving and e.clip == clip.name:
                    track(clip.span, e, session.masks_path)

        def save():
            with session.lock:
                return edits.fix_moving(session.masks_path, index, data.get("at"), data.get("region"), check, 1.0 / FPS)

        how = await run_in_threadpool(save)
        return JSONResponse({"saved": "masks.toml", "how": how})

    return [
        Route("/api/voice", endpoint(voice), methods=["POST"]),
        Route("/api/voice/remove", endpoint(voice_remove), methods=["POST"]),
        Route("/voice.wav", endpoint(voice_wav)),
        Route("/api/path", endpoint(path)),
        Route("/api/mask/fix", endpoint(fix), methods=["POST"]),
    ]
