"""Public accounts and their articles (DESIGN §5).

Pure building blocks — rendering, slugs and handles, feeds, signed authorship
(``render``, ``sanitise``, ``excerpt``, ``slugs``, ``feeds``, ``canonical``) — and
the services built on them: accounts and members (``accounts``), articles and
their revisions (``articles``, ``publishing``, ``scheduler``), reading
(``views``, ``reactions``, ``comments``) and discovery (``search``).
See ``docs/public-accounts.md``.
"""
