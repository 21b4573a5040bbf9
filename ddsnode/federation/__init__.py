"""Everything between nodes: peers and their descriptions (``peers``), the cache of peer
resources (``cache``), the LDN inbox and the persisted outbox (``inbox``, ``outbox``), the
change feed (``feed``), reaction counts across nodes (``reactions``), traceability walks
(``trace``), federated listings (``listing``), RFC 9421 signatures and node keys
(``signature``, ``keys``), its SQLite database (``database``) and the hub that runs the
push, sync and receiving loops (``hub``). Incoming federated data crosses a trust
boundary: see docs/federation-security.md."""
