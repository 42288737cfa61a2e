"""The base every stage stands on: errors, the content cache, ffmpeg, packaged resources, networks,
threads, locks, signals, crash reports, text files and the output geometry. Nothing here imports a
stage or an area."""
