"""Speech: transcription engines, the transcript, a person's corrections and the model store."""
