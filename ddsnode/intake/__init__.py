"""Election night's intake (issue 15): polling stations' tallies in, an event log, totals.

* :mod:`.log` — the append-only, hash-chained event log (NIST SP 1500-101 shape), the one
  owner of its table in ``DIR/intake.db``;
* :mod:`.geography` — elections, contests and the reporting-unit tree, read from the store;
* :mod:`.tally` — one station's tally for one contest, from JSON-LD or an EML 510 fragment;
* :mod:`.evidence` — tally-sheet photos and PDFs, stored by their SHA-256;
* :mod:`.totals` — running totals per contest and unit (``elections.reporting.ResultsFeed``);
  :mod:`.seed` — station results already in the store, the totals' starting point;
  :mod:`.feed` — what election night publishes (these totals, stored results elsewhere);
* :mod:`.desk` — the intake desk: idempotency, double entry, corrections, the node write;
  :mod:`.submission` — what the HTTP layer hands it and what it answers.

The HTTP side is ``ddsnode/http/intake.py``; the docs are ``docs/election-night.md``.
"""
