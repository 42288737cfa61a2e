"""The post around the video: its text, hashtags, mentions and contacts, checked before sign-off.

``model`` reads ``[post]`` (episode.toml over campaign.toml) into one :class:`~pipeline.post.model.Post`
per network; ``limits`` reads each network's published limits from its preset; ``handles`` reads the
campaign's vetted ``handles.toml``; ``contacts`` finds phone numbers and links; ``checks`` runs every
check; ``pack`` writes ``<network>/post.txt`` and ``post.json``.
"""
