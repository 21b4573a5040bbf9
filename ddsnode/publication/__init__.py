"""Election night's publication (issue 15): signed, immutable generations behind a pointer.

``stored`` (a ResultsFeed over results in the store), ``documents`` (a unit result as
JSON-LD, CSV, NIST CDF; diffs), ``generation`` (one generation's files and manifest),
``jws`` and ``keyring`` (Ed25519 compact JWS, the JWKS), ``archive`` (files on disk, the
pointer switched last), ``shelf`` (bytes served from memory), ``publisher`` (the loop),
``mirror`` (following another node), ``verification`` (``ddsnode verify`` of a
published election). See docs/election-night.md.
"""
