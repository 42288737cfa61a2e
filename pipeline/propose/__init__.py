"""From rushes to episodes: ``cadre propose`` reads long raw files once, proposes stretches worth
posting with the reasons for each, and writes an episode folder for each accepted one.

Cheap first: voice activity on the whole file (:mod:`listen`), one small sparse decode of the
picture (:mod:`look`), Whisper on the voiced passages only (:mod:`words`), stretches cut on
sentence ends and shot cuts (:mod:`stretches`), reasons (:mod:`score`), faces masked and counted
on a few frames per proposal (:mod:`thumbs`), one offline page (:mod:`page`), accepting
(:mod:`accept`); :mod:`run` ties them together. The public API is in :mod:`pipeline`
(``propose_episodes``, ``accept_proposals``, ``ProposeOptions``).
"""
