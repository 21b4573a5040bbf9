"""The public explorer (issue 12): search over own and cached peer resources, and pages.

``search`` (with ``text``, ``extract``, ``query``) is the core: a derived SQLite FTS5 index
that replays the store's change log and the peer cache. ``labels``, ``i18n`` and ``view``
turn graphs into what a page shows; ``web`` is the only part that speaks HTTP and renders
templates.
"""
