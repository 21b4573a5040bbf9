"""Tools for standards authors: ``ddsnode ontology check`` and ``ddsnode ontology docs``.

They read a tree of standards files (:class:`~ddsnode.authoring.sources.Sources`): the
bundled one by default, or another checkout given with ``--root``.
"""
