"""Captions: grouping words into events, typography, styles, glyph checks, ASS and sidecars."""
