"""Review and sign-off before anything is published.

- :mod:`.session`: the episode as the page shows it, read from the files a person edits;
- :mod:`.edits`: saving to those files (clip SRTs, ``masks.toml``, ``episode.toml``'s bleep list);
- :mod:`.server`: the local page (Starlette + uvicorn, 127.0.0.1, session token, Host/Origin checks);
- :mod:`.proxy`: a 540x960 proxy render with captions, masks and bleeps as published;
- :mod:`.export`: a read-only single-file HTML copy to send for sign-off;
- :mod:`.protect` (:mod:`.voices`, :mod:`.paths`): voice spans played disguised, moving regions' paths and fixes;
- :mod:`.history`: the last approval and publication, from ``approval.json`` and ``audit.jsonl``;
- :mod:`.frames`, :mod:`.state`, :mod:`.checks`: pictures, the page's JSON, the network checks.
"""
