"""The DCAT-AP 3.0 graph of a build: the catalogue, its datasets, series and distributions.

What DCAT-AP 3.0.1 requires is here, and what its shapes check by class
(``ranges.ttl``): every object of a property whose range is a class says its class
(``dct:license`` a ``dct:LicenseDocument``, ``dct:format`` a ``dct:MediaTypeOrExtent``,
``dcat:theme`` a ``skos:Concept`` with a ``skos:prefLabel`` …), since a SHACL processor
does no RDFS inference. A ``dcat:DatasetSeries`` is also typed ``dcat:Dataset`` (DCAT 3,
6.7: a subclass of it), so a catalogue lists series with ``dcat:dataset``.

Large catalogues are paged: page ``n`` is ``<base>catalog?page=n``, a complete
``dcat:Catalog`` with the datasets of that page, and the paging is said in Hydra as
ckanext-dcat's RDF harvester reads it (``hydra:PagedCollection`` with ``hydra:nextPage``
…, ckanext/dcat/processors.py ``next_page``) and in the current Hydra form
(``hydra:PartialCollectionView`` with ``hydra:next`` …). An election's series and
datasets are never split across pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rdflib
from rdflib import RDF, BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS, SKOS, XSD

from ddsnode import paths
from ddsnode.catalog.build import Build, download_url
from ddsnode.catalog.dump import Slice
from ddsnode.catalog.elections import Election, election_title
from ddsnode.catalog.messages import GRAPH_LANGUAGES, dataset_title, message
from ddsnode.catalog.terms import (
    ACCESS_RIGHT,
    CSV,
    CSVW_METADATA,
    DATA_THEME,
    DCAT,
    FREQUENCY,
    GZIP,
    HYDRA,
    IANA,
    SHA256,
    SPDX,
    THEME,
    THEME_LABELS,
    VCARD,
    Format,
    format_of,
    generation_format,
)
from ddsnode.settings import Settings

SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")


@dataclass(frozen=True)
class Entry:
    """One item of the catalogue's pages: a participation dataset or an election series."""

    piece: Slice | Election


def entries(build: Build) -> list[Entry]:
    """What the catalogue lists, in page order: the node, containers, processes, elections."""
    return [Entry(s) for s in build.slices] + [Entry(e) for e in build.elections]


def page_count(build: Build, page_size: int) -> int:
    """How many pages the catalogue has (at least one)."""
    return max(1, -(-len(entries(build)) // max(1, page_size)))


class CatalogGraph:
    """Builds the graph of one page of a build's catalogue."""

    def __init__(self, build: Build, settings: Settings) -> None:
        self.build, self.settings = build, settings
        self.base: str = settings.base_url
        self.iri = URIRef(self.base + "catalog")
        self.name = str(settings.name)
        self.g = rdflib.Graph()
        for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS),
                           ("spdx", SPDX), ("vcard", VCARD), ("hydra", HYDRA)):
            self.g.bind(prefix, ns)

    # --- helpers ---------------------------------------------------------------------

    def _texts(self, subject: rdflib.term.Node, predicate: URIRef, msgid: str,
               **values: object) -> None:
        for lang in GRAPH_LANGUAGES:
            self.g.add((subject, predicate, Literal(message(msgid, lang, **values), lang=lang)))

    def _typed(self, subject: rdflib.term.Node, predicate: URIRef,
               obj: rdflib.term.IdentifiedNode, cls: URIRef) -> None:
        self.g.add((subject, predicate, obj))
        self.g.add((obj, RDF.type, cls))

    def _time(self, value: str) -> Literal:
        return Literal(value, datatype=XSD.dateTime if "T" in value else XSD.date)

    def frag(self, name: str) -> URIRef:
        """The IRI of a dataset, series or distribution described by the catalogue."""
        return URIRef(f"{self.iri}#{name}")

    # --- the catalogue ---------------------------------------------------------------

    def page(self, number: int, page_size: int) -> rdflib.Graph:
        """The graph of page ``number`` (1-based; clamped to the pages there are)."""
        g, cat = self.g, self.iri
        listed = entries(self.build)
        pages = page_count(self.build, page_size)
        number = min(max(1, number), pages)
        g.add((cat, RDF.type, DCAT.Catalog))
        self._texts(cat, DCTERMS.title, "catalog.title", name=self.name)
        self._texts(cat, DCTERMS.description, "catalog.description", name=self.name)
        self._typed(cat, DCTERMS.publisher, self.publisher(), FOAF.Agent)
        self._typed(cat, DCTERMS.license, URIRef(self.settings.license),
                    DCTERMS.LicenseDocument)
        self._typed(cat, FOAF.homepage, URIRef(self.base + "catalog"), FOAF.Document)
        g.add((cat, DCTERMS.modified, Literal(self.build.built, datatype=XSD.dateTime)))
        self._spatial(cat)
        scheme = URIRef(str(DATA_THEME)[:-1])
        self._typed(cat, DCAT.themeTaxonomy, scheme, SKOS.ConceptScheme)
        self._texts(scheme, DCTERMS.title, "theme.title")
        self._typed(cat, DCAT.service, self.sparql_service(), DCAT.DataService)
        start = (number - 1) * page_size
        for entry in listed[start:start + page_size]:
            for dataset in self.entry(entry):
                g.add((cat, DCAT.dataset, dataset))
        self._paging(number, pages, len(listed), page_size)
        return g

    def publisher(self) -> URIRef:
        """The operator as a ``foaf:Agent``, with the contact point's details."""
        s = self.settings
        url = str(s.operator_url or "")
        agent = URIRef(url if url.startswith(("https://", "http://")) else
                       self.base + "catalog#publisher")
        self.g.add((agent, FOAF.name, Literal(str(s.operator or s.name))))
        return agent

    def contact(self) -> URIRef:
        """The contact point (``vcard:Kind``): the operator's e-mail and home page."""
        node = self.frag("contact")
        s = self.settings
        self.g.add((node, RDF.type, VCARD.Organization))
        self.g.add((node, VCARD.fn, Literal(str(s.operator or s.name))))
        if s.catalog_contact_email:
            self.g.add((node, VCARD.hasEmail, URIRef("mailto:" + str(s.catalog_contact_email))))
        url = str(s.operator_url or "")
        self.g.add((node, VCARD.hasURL, URIRef(url if url.startswith(("https://", "http://"))
                                              else self.base)))
        return node

    def sparql_service(self) -> URIRef:
        """The node's SPARQL endpoint, as the ``dcat:DataService`` serving every dataset."""
        service = self.frag("sparql")
        self._typed(service, DCAT.endpointURL, URIRef(self.base + "sparql"), RDFS.Resource)
        self._texts(service, DCTERMS.title, "sparql.title", name=self.name)
        self._typed(service, DCTERMS.conformsTo, SPARQL_PROTOCOL, DCTERMS.Standard)
        self._typed(service, DCTERMS.license, URIRef(self.settings.license),
                    DCTERMS.LicenseDocument)
        return service

    def _spatial(self, subject: URIRef, iri: str | None = None) -> None:
        where = iri or str(self.settings.catalog_spatial or "")
        if where.startswith(("https://", "http://")):
            self._typed(subject, DCTERMS.spatial, URIRef(where), DCTERMS.Location)

    def _common(self, dataset: URIRef, modified: str | None) -> None:
        g = self.g
        g.add((dataset, RDF.type, DCAT.Dataset))
        self._typed(dataset, DCTERMS.publisher, self.publisher(), FOAF.Agent)
        self._typed(dataset, DCAT.contactPoint, self.contact(), VCARD.Kind)
        self._typed(dataset, DCAT.theme, THEME, SKOS.Concept)
        for lang, label in THEME_LABELS.items():
            g.add((THEME, SKOS.prefLabel, Literal(label, lang=lang)))
        g.add((THEME, SKOS.inScheme, URIRef(str(DATA_THEME)[:-1])))
        self._typed(dataset, DCTERMS.accessRights, ACCESS_RIGHT.PUBLIC, DCTERMS.RightsStatement)
        if modified:
            g.add((dataset, DCTERMS.modified, Literal(modified, datatype=XSD.dateTime)))

    def _temporal(self, dataset: URIRef, start: str | None, end: str | None) -> None:
        if not start and not end:
            return
        period = BNode()
        self._typed(dataset, DCTERMS.temporal, period, DCTERMS.PeriodOfTime)
        if start:
            self.g.add((period, DCAT.startDate, self._time(start)))
        if end:
            self.g.add((period, DCAT.endDate, self._time(end)))

    # --- datasets --------------------------------------------------------------------

    def entry(self, entry: Entry) -> list[URIRef]:
        """The datasets (and series) of one entry, described; their IRIs."""
        if isinstance(entry.piece, Election):
            return self.election(entry.piece)
        return [self.participation(entry.piece)]

    def participation(self, piece: Slice) -> URIRef:
        """A dataset of participation data (the node, a container or a process)."""
        g, dataset = self.g, self.frag(piece.key)
        self._common(dataset, piece.modified)
        path = piece.subject[len(self.base):]
        for lang in GRAPH_LANGUAGES:
            title = dataset_title(piece.kind, path, piece.title or path or self.name, lang)
            values = {"name": self.name, "title": title, "path": path, "count": piece.count}
            g.add((dataset, DCTERMS.title, Literal(message(f"{piece.kind}.title", lang,
                                                           **values), lang=lang)))
            g.add((dataset, DCTERMS.description, Literal(message(
                f"{piece.kind}.description", lang, **values), lang=lang)))
        g.add((dataset, DCTERMS.identifier, Literal(piece.key)))
        self._typed(dataset, DCAT.landingPage, URIRef(piece.subject), FOAF.Document)
        self._typed(dataset, DCTERMS.accrualPeriodicity, FREQUENCY.UPDATE_CONT,
                    DCTERMS.Frequency)
        self._spatial(dataset)
        self._temporal(dataset, piece.first, piece.last)
        self._distributions(dataset, piece.files, piece.modified)
        return dataset

    def election(self, election: Election) -> list[URIRef]:
        """An election's series and the dataset of its data as the node holds it."""
        g = self.g
        series, dataset = self.frag("series-" + election.key), self.frag(election.key)
        for node, kind in ((series, "series"), (dataset, "election")):
            self._common(node, election.modified)
            for lang in GRAPH_LANGUAGES:
                named = election_title(election, lang)
                g.add((node, DCTERMS.title, Literal(message(f"{kind}.title", lang,
                                                            title=named), lang=lang)))
                g.add((node, DCTERMS.description, Literal(message(
                    f"{kind}.description", lang, title=named), lang=lang)))
            self._temporal(node, election.start or None, election.end or None)
            self._spatial(node, election.scope)
        g.add((series, RDF.type, DCAT.DatasetSeries))
        self._typed(series, DCTERMS.accrualPeriodicity, FREQUENCY.IRREG, DCTERMS.Frequency)
        self._typed(series, DCAT.landingPage, URIRef(election.iri), FOAF.Document)
        self._typed(dataset, DCAT.inSeries, series, DCAT.DatasetSeries)
        g.add((dataset, DCTERMS.identifier, Literal(election.key)))
        self._typed(dataset, DCAT.landingPage, URIRef(election.iri), FOAF.Document)
        self._distributions(dataset, election.files, election.modified)
        return [series, dataset] + [self.generation(series, election, g)
                                    for g in election.generations]

    def generation(self, series: URIRef, election: Election,
                   generation: dict[str, Any]) -> URIRef:
        """A published results generation (``catalog.generations``) as a dataset of the
        series, its files as the signed manifest lists them."""
        g, number = self.g, int(generation["number"])
        dataset = self.frag(f"{election.key}-g{number}")
        self._common(dataset, generation["generated"] or None)
        for lang in GRAPH_LANGUAGES:
            values = {"title": election_title(election, lang), "n": number,
                      "status": generation["status"]}
            g.add((dataset, DCTERMS.title, Literal(message("generation.title", lang,
                                                           **values), lang=lang)))
            g.add((dataset, DCTERMS.description, Literal(message(
                "generation.description", lang, **values), lang=lang)))
        self._temporal(dataset, election.start or None, election.end or None)
        self._spatial(dataset, election.scope)
        self._typed(dataset, DCAT.inSeries, series, DCAT.DatasetSeries)
        g.add((dataset, DCTERMS.identifier, Literal(f"{election.key}-g{number}")))
        g.add((dataset, DCAT.version, Literal(str(number))))
        self._typed(dataset, DCAT.landingPage, URIRef(generation["url"]), FOAF.Document)
        # The keys its manifest is signed with (RFC 7517 JWK Set): a page, not a
        # distribution, since a key rotation changes it between two catalogue builds.
        keys = URIRef(self.base + paths.JWKS_PATH)
        self._typed(dataset, FOAF.page, keys, FOAF.Document)
        g.add((keys, DCTERMS.title, Literal("JSON Web Key Set (RFC 7517) of the publisher",
                                            lang="en")))
        for item in generation["files"]:
            path = str(item["path"])
            kind = generation_format(path, str(generation.get("format", "")))
            url = URIRef(generation["url"] + path)
            dist = self.frag(f"{election.key}-g{number}/{path}")
            self._distribution(dataset, dist, url, kind, int(item["size"]),
                               str(item["sha256"]), generation["generated"] or None)
        return dataset

    def _distributions(self, dataset: URIRef, names: list[str], modified: str | None) -> None:
        for name in names:
            entry = self.build.files.get(name)
            if entry is None:
                continue
            kind, url = format_of(name), URIRef(download_url(self.base, name))
            dist = self.frag(name)
            self._distribution(dataset, dist, url, kind, entry.size, entry.sha256, modified)
            if kind is CSV:
                # The CSV's own schema: its CSVW data dictionary (CSVW, Metadata 5.1).
                stem = name[:-len(CSV.key)]
                dictionary = URIRef(download_url(self.base, stem + CSVW_METADATA.key))
                self._typed(dist, DCTERMS.conformsTo, dictionary, DCTERMS.Standard)

    def _distribution(self, dataset: URIRef, dist: URIRef, url: URIRef, kind: Format,
                      size: int, sha256: str, modified: str | None) -> None:
        g = self.g
        self._typed(dataset, DCAT.distribution, dist, DCAT.Distribution)
        g.add((dist, DCTERMS.title, Literal(kind.label, lang="en")))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.downloadURL, url))
        self._typed(dist, DCTERMS.format, kind.file_type, DCTERMS.MediaTypeOrExtent)
        self._typed(dist, DCAT.mediaType, IANA[kind.media_type], DCTERMS.MediaType)
        if kind.gzip:
            self._typed(dist, DCAT.compressFormat, GZIP, DCTERMS.MediaType)
        g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        self._typed(dist, SPDX.checksum, checksum, SPDX.Checksum)
        self._typed(checksum, SPDX.algorithm, SHA256, SPDX.ChecksumAlgorithm)
        g.add((checksum, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))
        self._typed(dist, DCTERMS.license, URIRef(self.settings.license),
                    DCTERMS.LicenseDocument)
        standard = URIRef(kind.standard.iri)
        self._typed(dist, DCTERMS.conformsTo, standard, DCTERMS.Standard)
        g.add((standard, DCTERMS.title, Literal(kind.standard.title, lang="en")))
        g.add((dist, DCTERMS.modified, Literal(modified or self.build.built,
                                               datatype=XSD.dateTime)))

    def _paging(self, number: int, pages: int, total: int, size: int) -> None:
        g = self.g

        def at(n: int) -> URIRef:
            return URIRef(f"{self.iri}?page={n}")

        here = at(number)
        g.add((here, RDF.type, HYDRA.PagedCollection))
        g.add((here, RDF.type, HYDRA.PartialCollectionView))
        g.add((here, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
        g.add((here, HYDRA.itemsPerPage, Literal(size, datatype=XSD.integer)))
        for old, new, n in ((HYDRA.firstPage, HYDRA.first, 1),
                            (HYDRA.lastPage, HYDRA.last, pages)):
            g.add((here, old, at(n)))
            g.add((here, new, at(n)))
        if number < pages:
            g.add((here, HYDRA.nextPage, at(number + 1)))
            g.add((here, HYDRA.next, at(number + 1)))
        if number > 1:
            g.add((here, HYDRA.previousPage, at(number - 1)))
            g.add((here, HYDRA.previous, at(number - 1)))
