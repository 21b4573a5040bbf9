"""ddsnode: the node software of a Democracy Data Space."""

import rdflib

__version__ = "0.1.0"

# RDF terms are stored as sent: rdflib would otherwise rewrite a literal's lexical form to
# its canonical one at construction ("007"^^xsd:integer -> "7", "…Z" -> "…+00:00") in
# every parser it runs (SPARQL Update, N3 Patch …), and a PATCH deleting the value as
# written would then miss it (RDF 1.1 Concepts 3.3: the lexical form is part of the term).
rdflib.NORMALIZE_LITERALS = False
