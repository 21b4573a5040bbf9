"""What the clerk's tally page adds to a tally: the form beside the API, in one run.

    .venv/bin/python bench/clerk_form.py [--tallies 200]

An in-process node (the ASGI app uvicorn serves, ``tests/support/inprocess.py``) with the
example election (Rivemont). Each round sends one station's tally the same numbers
under a new idempotency key (the desk answers ``unchanged``: parsed, checked, decided,
logged with an fsync — the whole intake path but the result's write, the same for both
ways in): ``--tallies`` times as JSON-LD to ``POST /intake/tallies`` (the baseline), and
as the form a browser posts (``multipart/form-data``) to ``POST /explore/intake``, whose
answer is the rendered confirmation page; then the form page itself (``GET``, the
station list named from the store); then the supervisor's page (``POST
/explore/intake/review``, ``action=list``) with a full page of items: 50 tallies for a
counted station refused with distinct numbers, each shown beside the counted one (read
from the log by sequence number). Prints milliseconds per request and the ratios to the
baseline. A script, never a test; a few seconds.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ddsnode.explorer.web.clerk_review import MAX_ITEMS  # noqa: E402
from ddsnode.ldp.tokens import TokenRegistry  # noqa: E402
from tests.support.inprocess import local_node  # noqa: E402
from tests.test_intake import COUNCIL, load_election, post, tally  # noqa: E402

HTML = {"Accept": "text/html"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tallies", type=int, default=200)
    n = parser.parse_args().tallies
    with tempfile.TemporaryDirectory() as tmp, local_node(Path(tmp)) as node, \
            node.client() as http:
        load_election(node, http)
        body = tally(node, "bureau-101", 500, 300, 200)
        assert post(node, http, body, "first").status_code == 201
        sel = node.url(COUNCIL) + "#list-"
        fields = {"contest": node.url(COUNCIL), "station": node.url("places/bureau-101"),
                  f"count {sel}rc": "500", f"count {sel}ar": "300", f"count {sel}res": "200",
                  "cast": "1015", "blank": "10", "invalid": "5", "token": node.token}
        empty = {"evidence": ("", b"", "application/octet-stream")}
        assert post(node, http, tally(node, "bureau-104", 1, 1, 1), "counted").status_code == 201
        for i in range(MAX_ITEMS):  # refused: bureau 104 is counted with other numbers
            assert post(node, http, tally(node, "bureau-104", 2 + i, 1, 1),
                        f"other-{i}").status_code == 409
        supervisor = TokenRegistry(node.dir).create(["write", "review"], label="bench")

        def api(i: int) -> None:
            r = post(node, http, body, f"api-{i}")
            assert r.status_code == 200, r.text

        def form(i: int) -> None:
            r = http.post("/explore/intake", data={**fields, "key": f"form-{i}"},
                          files=empty, headers=HTML)
            assert r.status_code == 200 and "same numbers" in r.text, r.text[:300]

        def page(i: int) -> None:
            r = http.get("/explore/intake", params={"contest": node.url(COUNCIL)},
                         headers=HTML)
            assert r.status_code == 200 and re.search(r'name="key" value="clerk-', r.text)

        def review(i: int) -> None:
            r = http.post("/explore/intake/review", data={"action": "list",
                                                          "token": supervisor}, headers=HTML)
            assert r.status_code == 200 and r.text.count("<section") == MAX_ITEMS, r.text[:300]

        timings = {}
        for name, step in (("api", api), ("form", form), ("page", page), ("review", review)):
            step(-1)  # warm: templates compiled, catalogues read
            start = time.perf_counter()
            for i in range(n):
                step(i)
            timings[name] = (time.perf_counter() - start) / n * 1000
    base = timings["api"]
    print(f"{n} requests each, in-process, one client")
    print(f"POST /intake/tallies (JSON-LD, baseline) {base:7.2f} ms")
    print(f"POST /explore/intake (form, page back)   {timings['form']:7.2f} ms  "
          f"x{timings['form'] / base:.2f}")
    print(f"GET  /explore/intake?contest= (the form) {timings['page']:7.2f} ms  "
          f"x{timings['page'] / base:.2f}")
    print(f"POST /explore/intake/review ({MAX_ITEMS} items)  {timings['review']:7.2f} ms  "
          f"x{timings['review'] / base:.2f}")


if __name__ == "__main__":
    main()
