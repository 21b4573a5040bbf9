"""Cost of the RDF 1.1 term check on the write path (issue 9 item 6).

Every write runs ``rdfterms.check_graph`` on the parsed graph and the store parses the
record's N-Triples as the SPARQL index will (``rdfterms.check_ntriples``). This prints,
for resources of n triples (a proposal-like mix: IRIs, language-tagged and typed
literals, blank nodes), the time of each check per resource and per triple, with the
ratio to the previous n: ~2 when the cost is linear. "iterate" is the cost of only walking
the rdflib graph, which check_graph includes. The first row (20 triples) is the
typical resource; it should cost tens of microseconds, against milliseconds for parsing
and validating the same resource.

Run: .venv/bin/python -m bench.rdfterms
"""

from __future__ import annotations

import timeit

import rdflib

from ddsnode.rdf import rdfio
from ddsnode.rdf.rdfterms import check_graph, check_ntriples

DDS = "https://w3id.org/dds/ns#"
SIZES = (20, 40, 80, 160, 320, 640, 1280, 2560)


def resource(n: int, k: int = 0) -> rdflib.Graph:
    """A graph of ``n`` triples about one resource (``k`` varies its IRIs)."""
    g = rdflib.Graph()
    main = rdflib.URIRef(f"https://node.example/proposals/p-{k}")
    for i in range(n):
        p = rdflib.URIRef(f"{DDS}p{i % 12}")
        match i % 4:
            case 0:
                o: rdflib.term.Node = rdflib.Literal(f"title {i}", lang=("fr", "en", "ca")[i % 3])
            case 1:
                o = rdflib.Literal(str(i), datatype=rdflib.XSD.integer)
            case 2:
                o = rdflib.URIRef(f"https://node.example/topics/t-{i}")
            case _:
                o = rdflib.BNode(f"b{i}")
        g.add((main, p, o))
    return g


def per_call(fn: object, budget: float = 0.2) -> float:
    """Seconds per call of ``fn``, repeated for about ``budget`` seconds, best of 3."""
    timer = timeit.Timer(fn)  # type: ignore[arg-type]
    number, _ = timer.autorange()
    number = max(1, int(number * budget / 0.2))
    return min(timer.repeat(3, number)) / number


def main() -> None:
    print(f"{'n':>6} {'iterate µs':>11} {'check_graph µs':>15} {'ratio':>6} "
          f"{'check_ntriples µs':>18} {'ratio':>6} {'µs/triple':>10}")
    previous: tuple[float, float] | None = None
    for n in SIZES:
        g = resource(n)
        text = rdfio.ntriples(g).decode("utf-8")
        check_graph(g)  # warm: the IRIs and language tags are then remembered
        it = per_call(lambda g=g: list(g.triples((None, None, None)))) * 1e6
        a = per_call(lambda g=g: check_graph(g)) * 1e6
        b = per_call(lambda text=text: check_ntriples(text)) * 1e6
        ra = f"{a / previous[0]:.2f}" if previous else "-"
        rb = f"{b / previous[1]:.2f}" if previous else "-"
        print(f"{n:>6} {it:>11.1f} {a:>15.1f} {ra:>6} {b:>18.1f} {rb:>6} "
              f"{(a + b) / n:>10.2f}")
        previous = (a, b)
    cold = resource(20, k=1)
    fresh = per_call(lambda: check_graph(resource(20, k=2)), 0.1) * 1e6 \
        - per_call(lambda: resource(20, k=2), 0.1) * 1e6
    print(f"\n20 triples, terms never seen before (cold cache): ~{fresh:.0f} µs "
          f"({len(cold)} triples)")


if __name__ == "__main__":
    main()
