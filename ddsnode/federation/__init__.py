"""Everything between nodes: peers and their descriptions (``peers``), the cache of peer
resources (``cache``), the LDN inbox and the persisted outbox (``inbox``, ``outbox``), the
change feed (``feed``), reaction counts across nodes (``reactions``), traceability walks
(``trace``), federated listings (``listing``), RFC 9421 signatures
(``signature``), its SQLite database (``database``), and the hub (``hub``) that keeps the
shared state and runs the loops of three jobs: ``push`` (our changes to followers),
``sync`` (peers' feeds) and ``receiving`` (notifications), with ``counting`` (reactions
to our resources) shared by them. Incoming federated data crosses a trust
boundary: see docs/federation-security.md."""
