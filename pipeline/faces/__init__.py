"""Faces: redaction presets, the reviewer's masks.toml, detectors, the analysis and tracking, masking pixels and the contact sheet."""
