"""Sound: loudness normalisation and the audio pass, bleeping."""
