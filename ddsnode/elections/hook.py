"""The plausibility checks in the node's write path: a result that cannot be is a 422.

:func:`plausible_results` is a :data:`ddsnode.ldp.records.WriteHook`: the node runs it on
every write, before validation. On a ``ContestResult`` it runs the checks that need
nothing but the result itself (:func:`.plausibility.check_result`: ballots cast above
the registered voters the result states, vote-type parts above a selection's total)
and refuses the write with an RFC 9457 problem listing the findings. Checks that need
other resources (the unit's registered voters, the contest's votes allowed, sub-unit
sums) are ``ddsnode verify``'s.
"""

from __future__ import annotations

import rdflib
from rdflib import RDF

from ddsnode.elections.model import integer_of
from ddsnode.elections.plausibility import ERROR, Figures, check_result
from ddsnode.ldp.records import OnAccept
from ddsnode.problem import Unprocessable
from ddsnode.rdf.vocab import DDS
from ddsnode.store.base import StoredResource

COUNT_NS = "https://w3id.org/dds/count-type/"


class ImplausibleResult(Unprocessable):
    """A ContestResult whose numbers cannot all be true."""

    slug, title = "implausible-result", "The result's numbers do not add up"


def figures_of(graph: rdflib.Graph, main: rdflib.URIRef) -> Figures:
    """The numbers a ContestResult document states about itself."""
    counts: dict[tuple[str, str], int] = {}
    for vc in graph.objects(main, DDS.hasVoteCount):
        ctype = str(graph.value(vc, DDS.countType) or "")
        key = (str(graph.value(vc, DDS.selection)), ctype.removeprefix(COUNT_NS))
        counts[key] = counts.get(key, 0) + (integer_of(graph, vc, DDS.count) or 0)
    return Figures(str(main), str(graph.value(main, DDS.reportingUnit) or ""), "",
                   integer_of(graph, main, DDS.registeredVoters), integer_of(graph, main, DDS.ballotsCast),
                   integer_of(graph, main, DDS.blankBallots), integer_of(graph, main, DDS.invalidBallots),
                   None, counts)


def plausible_results(graph: rdflib.Graph, main: rdflib.URIRef,
                      current: StoredResource | None) -> OnAccept | None:
    """Refuse a ContestResult whose own numbers cannot be (ImplausibleResult, 422)."""
    if (main, RDF.type, DDS.ContestResult) not in graph:
        return None
    errors = [f for f in check_result(figures_of(graph, main)) if f.severity == ERROR]
    if errors:
        raise ImplausibleResult("; ".join(f.message for f in errors),
                                extra={"findings": [f.to_json() for f in errors]})
    return None
