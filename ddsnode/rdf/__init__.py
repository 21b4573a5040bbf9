"""RDF and JSON-LD input and output: parsing (``jsonld``, ``rdfio``), the RDF 1.1 term
check every stored term passes (``rdfterms``), compaction to the shared context, and the
vocabulary loaded from ``ontology/`` (``vocab``)."""
