"""Branding: logo and title card overlays, intro and outro bumpers."""
