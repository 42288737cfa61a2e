"""Signing an episode off: the fingerprint of everything that shapes a published file, the approval
recorded against it, and the append-only audit log of who did what."""
