"""Watch a campaign folder and re-render an episode when its clips, captions or settings change.

File events come from watchdog (inotify, FSEvents, ReadDirectoryChangesW, or polling). An episode
is rendered only once it has *settled*: no event for ``settle`` seconds, and the size and mtime
of every file in it unchanged between two looks ``settle`` seconds apart. A clip still being
copied keeps changing, so it is never read half-written. Each render is an ordinary incremental
batch limited to the settled episodes, so an unchanged episode costs nothing and a caption edit
re-encodes without analysing again. Changes to ``campaign.toml`` concern every episode.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.campaign.batch import (
    BatchOptions,
    check_campaign_output,
    find_episodes,
    out_root,
    run_batch,
)
from pipeline.core.errors import CadreError
from pipeline.master import no_events


@dataclass
class WatchOptions:
    batch: BatchOptions
    settle: float = 2.0          # seconds without change before an episode is read
    poll: float = 0.25           # how often the loop looks at pending episodes
    initial: bool = True         # catch up on start (an incremental batch over the whole campaign)



def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file in an episode folder."""
    out = {}
    try:
        for p in folder.iterdir():
            try:
                st = p.stat()
                out[p.name] = (st.st_size, st.st_mtime_ns)
            except OSError:
                pass
    except OSError:
        pass
    return out


class CampaignWatcher:
    def __init__(self, campaign: str | Path, options: WatchOptions, events=no_events, runner=run_batch):
        self.campaign = Path(campaign).resolve()
        self.options = options
        self.events = events
        self.runner = runner
        self.out = out_root(self.campaign, options.batch.render).resolve()
        self._lock = threading.Lock()
        self._last_event: dict[str, float] = {}                 # episode -> time of its last file event
        self._looked: dict[str, tuple[float, dict]] = {}        # episode -> (when, snapshot)
        self.results = []

    # ------------------------------------------------------------ file events (watchdog thread)

    def episode_of(self, path: str) -> str | None:
        """The episode a changed path belongs to, "*" for campaign.toml, None to ignore."""
        p = Path(path)
        try:
            p.relative_to(self.out)
            return None                       # our own outputs
        except ValueError:
            pass
        try:
            rel = p.relative_to(self.campaign)
        except ValueError:
            return None
        parts = rel.parts
        if not parts or any(part.startswith(".") for part in parts):
            return None                       # hidden files: temporary copies, locks, partial writes
        if len(parts) == 1:
            return "*" if parts[0] == "campaign.toml" else (parts[0] if (self.campaign / parts[0]).is_dir() else None)
        return None if parts[0].startswith("_") else parts[0]

    def touch(self, path: str) -> None:
        episode = self.episode_of(path)
        if episode is None:
            return
        with self._lock:
            names = [f.name for f in self._episodes()] if episode == "*" else [episode]
            for name in names:
                self._last_event[name] = time.monotonic()
                self._looked.pop(name, None)

    def _episodes(self) -> list[Path]:
        try:
            return find_episodes(self.campaign, self.out)
        except CadreError:
            return []

    # ------------------------------------------------------------ the loop

    def settled(self) -> list[str]:
        """Pending episodes that have stopped changing; they leave the pending set."""
        now = time.monotonic()
        ready = []
        with self._lock:
            for name, last in list(self._last_event.items()):
                if now - last < self.options.settle:
                    continue
                folder = self.campaign / name
                if not folder.is_dir():
                    del self._last_event[name]
                    self._looked.pop(name, None)
                    continue
                current = snapshot(folder)
                seen = self._looked.get(name)
                if seen is not None and seen[1] == current and now - seen[0] >= self.options.settle:
                    ready.append(name)
                    del self._last_event[name]
                    self._looked.pop(name, None)
                elif seen is None or seen[1] != current:
                    self._looked[name] = (now, current)
        return sorted(ready)

    def render(self, episodes: tuple[str, ...] = ()) -> None:
        names = {f.name for f in self._episodes()}
        episodes = tuple(e for e in episodes if e in names)
        options = replace(self.options.batch, only=episodes, lock_wait=max(self.options.batch.lock_wait, 600))
        self.events("watch_run", episodes=list(episodes) or ["*"])
        try:
            self.results.append(self.runner(self.campaign, options, self.events))
        except CadreError as exc:
            self.events("warning", message=str(exc))

    def run(self, stop: threading.Event | None = None) -> None:
        """Watch until ``stop`` is set (or Ctrl-C)."""
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            raise CadreError("cadre watch", "the watchdog library is not installed; run `pip install watchdog`") from None

        if not self.campaign.is_dir():
            raise CadreError(self.campaign, "campaign folder not found; pass the folder that holds the episode folders")
        check_campaign_output(self.campaign, self.out)
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write"):
                    return
                watcher.touch(event.src_path)
                if getattr(event, "dest_path", ""):
                    watcher.touch(event.dest_path)

        stop = stop or threading.Event()
        observer = Observer()
        observer.schedule(Handler(), str(self.campaign), recursive=True)
        observer.start()
        try:
            self.events("watch_start", campaign=str(self.campaign), settle=self.options.settle)
            if self.options.initial:
                with self._lock:                       # settle first: something may be copying now
                    for folder in self._episodes():
                        self._last_event.setdefault(folder.name, 0.0)
            while not stop.wait(self.options.poll):
                ready = self.settled()
                if ready:
                    self.render(tuple(ready))
        finally:
            observer.stop()
            observer.join()
