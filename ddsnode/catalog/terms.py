"""The words of the catalogue: DCAT-AP's vocabularies and the EU authority tables it names.

DCAT-AP 3.0.1 asks for controlled vocabularies (section 7 "Controlled vocabularies"):
file types, data themes, frequencies, access rights and languages from the EU
Publications Office's authority tables, media types from IANA's register. These are
not our vocabulary (``ontology/``), so they are named here, once, as rdflib namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import rdflib

#: DCAT 3 (rdflib's DCAT is DCAT 2, without dcat:DatasetSeries and dcat:inSeries).
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
CSVW_CONTEXT = "http://www.w3.org/ns/csvw"
_AUTHORITY = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = rdflib.Namespace(_AUTHORITY + "file-type/")
DATA_THEME = rdflib.Namespace(_AUTHORITY + "data-theme/")
FREQUENCY = rdflib.Namespace(_AUTHORITY + "frequency/")
ACCESS_RIGHT = rdflib.Namespace(_AUTHORITY + "access-right/")
LANGUAGE = rdflib.Namespace(_AUTHORITY + "language/")
IANA = rdflib.Namespace("http://www.iana.org/assignments/media-types/")

#: The data theme of everything a node publishes (EU "Government and public sector").
THEME = DATA_THEME.GOVE
THEME_LABELS = {"en": "Government and public sector", "fr": "Gouvernement et secteur public"}
SHA256 = SPDX.checksumAlgorithm_sha256
GZIP = IANA["application/gzip"]
#: ISO 639-1 codes of the interface languages, as the EU language table names them.
LANGUAGES = {"fr": LANGUAGE.FRA, "en": LANGUAGE.ENG, "ca": LANGUAGE.CAT, "es": LANGUAGE.SPA}


@dataclass(frozen=True)
class Standard:
    """A specification a distribution conforms to (``dct:conformsTo``, a ``dct:Standard``)."""

    iri: str
    title: str


@dataclass(frozen=True)
class Format:
    """One kind of file a distribution is: its file type, media type and standard."""

    key: str  # the file-name suffix: "nt.gz", "jsonld", "csv", "cdf.json"
    file_type: rdflib.URIRef  # dct:format, from the EU file-type table
    media_type: str  # dcat:mediaType (of the content, before compression)
    standard: Standard
    label: str  # shown on the HTML page
    gzip: bool = False  # dcat:compressFormat application/gzip

    @property
    def content_type(self) -> str:
        """The Content-Type the download is served with (the gzip file itself, if packed)."""
        if self.gzip:
            return "application/gzip"
        return self.media_type + ("; charset=utf-8" if self.media_type.startswith("text/")
                                  else "")


NTRIPLES = Format("nt.gz", FILE_TYPE.RDF_N_TRIPLES, "application/n-triples",
                  Standard("https://www.w3.org/TR/n-triples/", "RDF 1.1 N-Triples"),
                  "N-Triples (gzip)", gzip=True)
JSONLD = Format("jsonld", FILE_TYPE.JSON_LD, "application/ld+json",
                Standard("https://www.w3.org/TR/json-ld11/", "JSON-LD 1.1"), "JSON-LD")
CSV = Format("csv", FILE_TYPE.CSV, "text/csv",
             Standard("https://www.rfc-editor.org/rfc/rfc4180", "RFC 4180: CSV files"), "CSV")
CSVW_METADATA = Format("csv-metadata.json", FILE_TYPE.JSON, "application/csvm+json",
                       Standard("https://www.w3.org/TR/tabular-metadata/",
                                "Metadata Vocabulary for Tabular Data (CSVW)"),
                       "CSVW data dictionary")
NIST_CDF = Format("cdf.json", FILE_TYPE.JSON, "application/json",
                  Standard("https://doi.org/10.6028/NIST.SP.1500-100r2",
                           "NIST SP 1500-100 v2: Election Results Common Data Format"),
                  "NIST CDF JSON")
FORMATS = {f.key: f for f in (NTRIPLES, JSONLD, CSV, CSVW_METADATA, NIST_CDF)}
#: Files of election night's published generations (``ddsnode.publication``).
PUBLICATION = Standard("https://w3id.org/dds/publication/manifest/v1",
                       "ddsnode results publication, v1 (docs/election-night.md)")
PUBLICATION_V2 = Standard("https://w3id.org/dds/publication/manifest/v2",
                          "ddsnode results publication, v2: two-level manifest "
                          "(docs/election-night.md)")
SNAPSHOT = Format("json", FILE_TYPE.JSON, "application/json", PUBLICATION, "JSON")
# A compact JWS is ASCII text; the EU file-type table has no entry of its own for it.
SIGNED_MANIFEST = Format("jws", FILE_TYPE.TXT, "application/jose",
                         Standard("https://www.rfc-editor.org/rfc/rfc7515",
                                  "RFC 7515: JSON Web Signature (compact)"),
                         "Signed manifest (JWS)")


def format_of(name: str) -> Format:
    """The format of a dump file, from its name's suffix (longest suffix first)."""
    for key in sorted(FORMATS, key=len, reverse=True):
        if name.endswith("." + key):
            return FORMATS[key]
    raise KeyError(name)


def generation_format(path: str, publication: str = PUBLICATION.iri) -> Format:
    """The format of a file of a published generation, from its name; ``publication``
    is the IRI of the generation's manifest format (v1 or v2)."""
    if path.endswith(".nist.json"):
        return NIST_CDF
    if path.endswith(".jws"):
        return SIGNED_MANIFEST
    for known in (JSONLD, CSV):
        if path.endswith("." + known.key):
            return known
    if publication == PUBLICATION_V2.iri:
        return replace(SNAPSHOT, standard=PUBLICATION_V2)
    return SNAPSHOT
