"""Where a proposal may start and end: stretches cut from the signals of one rush.

**Speech.** Words (Whisper's, as the render captions them) and voice activity (Silero, padded)
closer than :attr:`CutOptions.join_gap` form one *passage*; a passage without words (the VAD
fired on wind) or mostly outside voice activity (Whisper heard words in noise) is dropped. A
passage longer than the limit is cut at sentence ends (else at the longest pause) between words.
A stretch starts before its first word and voice and ends after its last ones, never inside a
word or a voiced region of a neighbour; a short one grows into the silence around it, or takes in
its neighbour passage whole; an edge moves to a shot cut in the silence when one is close.

**No speech.** Seconds whose picture moves (not black, blank or snow) and seconds around a sound
event form stretches; still or dead seconds between them break them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.propose.listen import Sound
from pipeline.propose.look import Picture
from pipeline.propose.options import CutOptions
from pipeline.propose.words import Sentence
from pipeline.speech.transcript import Word


@dataclass
class Stretch:
    start: float
    end: float
    basis: str                                    # speech | motion
    words: list[Word] = field(default_factory=list)
    core: tuple[float, float] = (0.0, 0.0)        # first and last word or voice inside

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass
class _Chunk:
    core0: float
    core1: float
    words: list[Word]
    lo: float                 # the stretch may start from here (the end of what is before, with a margin)
    hi: float                 # ... and end up to here
    joined_before: bool = False   # cut from the same passage as the chunk before (no room between them)


def _passages(words: list[Word], sound: Sound, join_gap: float) -> list[tuple[float, float, list[Word]]]:
    items = [(w.start, w.end, w) for w in words] + [(a, b, None) for a, b in sound.voice]
    items.sort(key=lambda x: (x[0], x[1]))
    out: list[list] = []
    for a, b, w in items:
        if out and a - out[-1][1] < join_gap:
            out[-1][1] = max(out[-1][1], b)
            if w is not None:
                out[-1][2].append(w)
        else:
            out.append([a, b, [w] if w is not None else []])
    return [(a, b, ws) for a, b, ws in out]


def _split(a: float, b: float, words: list[Word], ends: set[int], longest: float) -> list[tuple[float, float, list[Word]]]:
    """``[a, b]`` cut between words into pieces of at most ``longest`` s, at sentence ends if possible."""
    pieces, start, first = [], a, 0
    while b - start > longest and first < len(words) - 1:
        fits = [i for i in range(first, len(words) - 1) if words[i].end - start <= longest]
        if not fits:
            fits = [first]
        ends_ok = [i for i in fits if id(words[i]) in ends]
        i = ends_ok[-1] if ends_ok else max(fits, key=lambda k: words[k + 1].start - words[k].end)
        pieces.append((start, words[i].end, words[first:i + 1]))
        start, first = words[i + 1].start, i + 1
    pieces.append((start, b, words[first:]))
    return pieces


def _chunks(passages, sentences: list[Sentence], duration: float, opt: CutOptions, longest: float) -> list[_Chunk]:
    ends = {id(s.words[-1]) for s in sentences if s.complete}
    out: list[_Chunk] = []
    for k, (a, b, words) in enumerate(passages):
        before = passages[k - 1][1] + opt.word_margin if k else 0.0
        after = passages[k + 1][0] - opt.word_margin if k + 1 < len(passages) else duration
        pieces = _split(a, b, words, ends, longest)
        for j, (c0, c1, ws) in enumerate(pieces):
            lo = before if j == 0 else (pieces[j - 1][1] + c0) / 2
            hi = after if j == len(pieces) - 1 else (c1 + pieces[j + 1][0]) / 2
            out.append(_Chunk(c0, c1, ws, max(0.0, lo), min(duration, hi), joined_before=j > 0))
    return out


def _live(picture: Picture, t: float, step: int, limit: float) -> float:
    """Seconds from ``t`` towards ``limit`` (``step`` -1: back, +1: on) before a dead second."""
    s = int(t) + (step if step > 0 else -1)
    edge = t
    while 0 <= s < picture.seconds and not picture.dead[s] and (s >= limit if step < 0 else s < limit):
        edge = s if step < 0 else s + 1
        s += step
    return max(0.0, (t - max(edge, limit)) if step < 0 else (min(edge, limit) - t))


def _grow(c: _Chunk, opt: CutOptions, shortest: float, picture: Picture | None = None) -> tuple[float, float]:
    """The stretch around the chunk's words with its lead and tail, grown to ``shortest`` into the
    room around it, where the picture is alive first."""
    start = max(c.lo, c.core0 - opt.lead)
    end = min(c.hi, c.core1 + opt.tail)
    for live in (True, False):
        need = shortest - (end - start)
        if need <= 0:
            break
        before = _live(picture, start, -1, c.lo) if live and picture else start - c.lo
        after = _live(picture, end, 1, c.hi) if live and picture else c.hi - end
        take_before = min(before, max(need / 2, need - after))
        start -= take_before
        end += min(after, need - take_before)
    return start, end


def _snap(start: float, end: float, c: _Chunk, cuts: list[float], opt: CutOptions, shortest: float,
          longest: float) -> tuple[float, float]:
    def best(value, lo, hi):
        near = [t for t in cuts if lo <= t <= hi and abs(t - value) <= opt.snap]
        return min(near, key=lambda t: abs(t - value)) if near else value

    new_start = best(start, c.lo, c.core0 - 0.05)
    if shortest <= end - new_start <= longest:
        start = new_start
    new_end = best(end, c.core1 + 0.05, c.hi)
    if shortest <= new_end - start <= longest:
        end = new_end
    return start, end


def speech_stretches(words: list[Word], sentences: list[Sentence], sound: Sound, picture: Picture, duration: float,
                     opt: CutOptions, shortest: float, longest: float) -> list[Stretch]:
    passages = _passages(words, sound, opt.join_gap)
    passages = [p for p in passages if p[2] and (not sound.has_audio or sound.voiced(p[0], p[1])
                                                  >= opt.vad_cover * max(p[1] - p[0], 0.1))]
    room = longest - opt.lead - opt.tail
    while True:   # passages too short to stand alone (no room to grow) take in their nearest neighbour
        chunks = _chunks(passages, sentences, duration, opt, room)
        short = next((k for k, c in enumerate(chunks) if not c.joined_before and _length(c, opt, shortest) < shortest - 0.01
                      and _mergeable(passages, chunks, k, room)), None)
        if short is None:
            break
        passages = _merge(passages, _passage_of(passages, chunks[short]), chunks[short], room)
    out = []
    for c in chunks:
        start, end = _grow(c, opt, shortest, picture)
        if not c.joined_before:
            start, end = _snap(start, end, c, picture.cuts, opt, shortest, longest)
        start, end = math.floor(start * 100) / 100, math.ceil(end * 100) / 100
        out.append(Stretch(max(0.0, start), min(end, math.floor(duration * 100) / 100), "speech", c.words,
                           (c.core0, c.core1)))
    return out


def _length(c: _Chunk, opt: CutOptions, shortest: float) -> float:
    start, end = _grow(c, opt, shortest)
    return end - start


def _passage_of(passages, chunk: _Chunk) -> int:
    return next(k for k, p in enumerate(passages) if p[0] <= chunk.core0 <= p[1])


def _mergeable(passages, chunks, k: int, room: float) -> bool:
    p = _passage_of(passages, chunks[k])
    sides = [q for q in (p - 1, p + 1) if 0 <= q < len(passages)]
    return any(max(passages[p][1], passages[q][1]) - min(passages[p][0], passages[q][0]) <= room for q in sides)


def _merge(passages, p: int, chunk: _Chunk, room: float):
    sides = [q for q in (p - 1, p + 1) if 0 <= q < len(passages)
             and max(passages[p][1], passages[q][1]) - min(passages[p][0], passages[q][0]) <= room]
    q = min(sides, key=lambda q: max(passages[q][0] - passages[p][1], passages[p][0] - passages[q][1]))
    a, b = sorted((p, q))
    joined = (passages[a][0], max(passages[a][1], passages[b][1]), passages[a][2] + passages[b][2])
    return passages[:a] + [joined] + passages[b + 1:]


def motion_stretches(sound: Sound, picture: Picture, opt: CutOptions, moving: float, still_share: float,
                     shortest: float, longest: float, lowest: float) -> list[Stretch]:
    """Stretches of a rush without speech: moving picture and sound events; dead seconds never."""
    n = picture.seconds
    active = [not picture.dead[s] and picture.motion[s] >= moving and picture.moving[s] >= still_share
              for s in range(n)]
    eventful = [False] * n
    for t, _ in sound.events:
        for s in range(max(0, int(t - opt.event_context)), min(n, int(t + opt.event_context) + 1)):
            eventful[s] = not picture.dead[s]
    runs, current, gap = [], None, 0
    for s in range(n):
        if active[s] or eventful[s]:
            current = [s, s + 1] if current is None else [current[0], s + 1]
            gap = 0
        elif current is not None:
            gap += 1
            if gap > opt.motion_gap or picture.dead[s]:
                runs.append(current)
                current, gap = None, 0
    if current is not None:
        runs.append(current)
    out = []
    for a, b in runs:
        if sum(active[a:b]) < opt.motion_min and not any(eventful[a:b]):
            continue
        pieces = max(1, math.ceil((b - a) / longest))
        size = (b - a) / pieces
        for k in range(pieces):
            s0, s1 = a + k * size, a + (k + 1) * size
            while s1 - s0 < shortest and (s0 > 0 and not picture.dead[int(s0) - 1] or s1 < n and not picture.dead[min(n - 1, int(s1))]):
                if s0 > 0 and not picture.dead[int(s0) - 1]:
                    s0 -= 1
                if s1 - s0 < shortest and s1 < n and not picture.dead[min(n - 1, int(s1))]:
                    s1 += 1
            if s1 - s0 >= lowest:
                out.append(Stretch(float(s0), float(min(s1, n)), "motion", [], (float(a), float(b))))
    return out


def passages_of(sound: Sound, join_gap: float) -> list[tuple[float, float]]:
    """The voiced passages Whisper is run on: voice regions closer than ``join_gap`` joined."""
    return [(a, b) for a, b, _ in _passages([], sound, join_gap)]
