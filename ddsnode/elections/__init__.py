"""Electoral data in the formats electoral authorities publish (issue 14).

    sources.py       a source file read whole and hashed (SHA-256), with its slug
    documents.py     the JSON-LD documents an import writes, their IRIs, NIST code tables
    nistxml.py       NIST SP 1500-100 XML read safely (no DTD, no entities) into v2 JSON
    nist.py          NIST SP 1500-100 v2 Election Results CDF (JSON, XML) -> documents
    openelections.py OpenElections precinct CSV -> documents, with OpenElections' checks
    eml.py           OASIS EML 510 counts and 230 candidate lists (Dutch profile) -> documents
    eml_definition.py  EML 110a election definitions (election, seats, region tree)
    popolo.py        Popolo persons, organizations, memberships, areas -> documents
    importer.py      writes documents through the node's one validated write path (ledger),
                     tombstones what a re-imported file no longer has
    model.py         an election read back from a graph: units, contests, results
    loading.py       that graph from a node directory, an export file or a node URL
    export.py        the model -> NIST CDF JSON (schema-valid) or OpenElections CSV
    plausibility.py  checks on one published result (turnout, parts within totals)
    verify.py        totals re-aggregated from the lowest units and compared
    seats.py         seats from list totals (D'Hondt, Sainte-Laguë, largest remainder)
    unit_kinds.py    the unit-kind scheme's labels (gpUnitType words, en/fr/ca/es)
"""
