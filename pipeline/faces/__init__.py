"""Faces: detectors, tracking, redaction analysis, masking pixels and the reviewer's contact sheet."""
