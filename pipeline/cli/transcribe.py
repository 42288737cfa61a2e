"""``cadre transcribe PATH...``: write the review SRT and JSON beside each clip."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import (
    ENGINES,
    CadreError,
    TranscribeOptions,
    read_text,
    write_review_files,
)

MEDIA_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".avi", ".mts", ".m2ts", ".webm", ".mxf", ".3gp",
                  ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus"}


def clips_in(path: Path) -> list[Path]:
    """A clip, or the clips of an episode folder in natural name order (2.mp4 before 10.mp4)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CadreError(path, "not found; give a clip or an episode folder")
    from natsort import natsorted

    found = natsorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
                       and not p.name.startswith(".")), key=lambda p: p.name)
    if not found:
        raise CadreError(path, f"no clips found (looked for {', '.join(sorted(MEDIA_SUFFIXES))})")
    return found


def read_glossary(items: tuple[str, ...]) -> tuple[str, ...]:
    """Glossary terms; ``@FILE`` reads one term per line (``#`` starts a comment)."""
    terms: list[str] = []
    for item in items:
        if item.startswith("@"):
            path = Path(item[1:])
            lines = read_text(path).removeprefix("\ufeff").splitlines()   # UTF-8 or one line: file, line, fix
            terms += [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]
        elif item.strip():
            terms.append(item.strip())
    return tuple(terms)


@click.command("transcribe")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-l", "--language", default="fr", show_default=True, help="Spoken language (ISO code), or 'auto'.")
@click.option("--engine", type=click.Choice(ENGINES), default="faster-whisper", show_default=True)
@click.option("-m", "--model", default="base", show_default=True,
              help="Model name from `cadre models list`, or a CTranslate2 model folder.")
@click.option("--beam-size", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--vad/--no-vad", default=True, show_default=True, help="Skip non-speech before decoding.")
@click.option("--prompt", "initial_prompt", help="Text that sets the context and spelling style.")
@click.option("-g", "--glossary", multiple=True,
              help="A name to spell right (unit, place, rank); repeat it, or @FILE with one per line.")
@click.option("--compute-type", default="auto", show_default=True,
              help="faster-whisper precision: auto (the best type this CPU offers), or int16, int8, int8_float32, "
                   "float32... (`cadre doctor` lists this machine's).")
@click.option("--overwrite", is_flag=True, help="Replace SRT files a person has edited.")
def command(paths, language, engine, model, beam_size, vad, initial_prompt, glossary, compute_type, overwrite):
    """Transcribe clips: write CLIP.LANG.srt (edit it to correct captions) and CLIP.LANG.json.

    PATH is a clip or an episode folder. A clip already transcribed with the same settings is
    read from the cache; an SRT a person has edited is never overwritten without --overwrite.
    """

    options = TranscribeOptions(language=language.lower(), engine=engine, model=model, beam_size=beam_size,
                                vad=vad, initial_prompt=initial_prompt, glossary=read_glossary(glossary),
                                compute_type=compute_type).resolved()  # fails before any file is written
    clips = [clip for path in paths for clip in clips_in(path)]
    for clip in clips:
        report = write_review_files(clip, options, overwrite=overwrite)
        for warning in report.warnings:
            click.echo(f"cadre: warning: {clip}: {warning}", err=True)
        if report.srt is None:
            click.echo(f"{clip}: skipped (no audio stream)")
            continue
        note = " [cached]" if report.cached else ""
        if report.kept_edits:
            click.echo(f"{clip}: kept your edits in {report.srt.name} (--overwrite replaces them); "
                       f"wrote {report.json.name}{note}")
        else:
            check = f", {report.low_confidence} words to check" if report.low_confidence else ""
            click.echo(f"{clip}: {report.srt.name}, {report.json.name} ({report.cues} cues{check}){note}")
