"""The open-data portal (issue 15): a DCAT-AP 3.0 catalogue of every dataset on the node,
and bulk dumps of its data, rebuilt when the data changes and never served half-written.

``dump`` (the one pass over the store: N-Triples gzip, JSON-LD, CSV per slice),
``elections`` (each election's NIST CDF, CSV, JSON-LD, N-Triples), ``csvw`` (the CSV
data dictionaries), ``build`` (a build in a fresh folder, switched in atomically),
``graph`` (the DCAT-AP graph of a build, paged), ``check`` (validation against the
official DCAT-AP 3.0.1 shapes), ``portal`` (the current build, the rebuild loop),
``files`` (serving a build's files: ETag, Range), ``terms`` and ``messages`` (the
vocabularies and the four languages). See docs/catalog.md.
"""
