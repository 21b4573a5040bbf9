"""The LDP core: the node's rules over a store, with no web framework.

``node`` (the operations HTTP, the CLI and importers call), ``records`` and
``admission`` (what a write makes and may contain), ``writer`` (the one write thread),
``containers``, ``representation``/``html`` (renderings), ``listing``, ``patch`` and
``patch_worker``, ``preconditions``, ``conneg``, ``filters``, ``indexing``,
``description``, and the read rule (``access``, ``access_modes``, ``tokens``).
"""
