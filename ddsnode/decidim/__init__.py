"""Import of Decidim platforms' data: open-data exports (CSV, ZIP) and the GraphQL API.

``ddsnode import decidim DIR SOURCE`` (``ddsnode.commands.imports``) runs an
:class:`~ddsnode.decidim.importer.Importer`. Modules: ``source`` (folder, ZIP, URL ->
files), ``csvrows`` (tolerant CSV), ``columns`` (what each version's files hold),
``mapping`` and ``context`` (IRIs, texts, references), ``spaces``, ``contributions``,
``accountability`` (rows -> JSON-LD documents), ``pseudonym``, ``ledger``, ``report``,
``importer``, ``graphql`` (the API reader). See docs/decidim.md.
"""
