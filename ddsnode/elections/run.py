"""The election commands as plain functions (the CLI and the tests call these)."""

from __future__ import annotations

from pathlib import Path

from ddsnode.elections.documents import Naming
from ddsnode.elections.importer import ElectionImport, ElectionImportReport, Progress
from ddsnode.elections.sources import read_source
from ddsnode.elections.verify import Verification, verify
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings


def import_nist(settings: Settings, node_dir: Path, path: Path, *, slug: str | None = None,
                language: str = "en", progress: Progress | None = None,
                tombstones: bool = True) -> ElectionImportReport:
    """Import one NIST SP 1500-100 v2 report (JSON or XML) into the node at ``node_dir``."""
    from ddsnode.elections import nist
    source = read_source(path, settings.elections_max_source_bytes)
    slug = slug or source.slug("nist")
    node = Node.open(settings)
    try:
        mapper = nist.Mapper(Naming(node.base, slug), source.digest, source.name, language)
        # Mapping errors (not a report, unsafe XML, a count that is not a number) stop
        # the import before anything is written: nothing half-imported.
        docs = mapper.documents(nist.read_report(source.data, source.name))
        report = ElectionImportReport(str(path), source.digest, notes=mapper.notes)
        return ElectionImport(node, node_dir, f"nist:{slug}", report, progress,
                              tombstones=tombstones).run(docs)
    finally:
        node.close()


def import_openelections(settings: Settings, node_dir: Path, path: Path, *,
                         slug: str | None = None, language: str = "en",
                         status: str = "unofficialComplete",
                         progress: Progress | None = None,
                         tombstones: bool = True) -> ElectionImportReport:
    """Import one OpenElections precinct CSV into the node at ``node_dir``."""
    from ddsnode.elections.openelections import Mapper, read_sheet
    source = read_source(path, settings.elections_max_source_bytes)
    slug = slug or source.slug("oe")
    node = Node.open(settings)
    try:
        sheet = read_sheet(source, max_rows=settings.elections_max_rows)
        mapper = Mapper(Naming(node.base, slug), source.digest, source.name,
                                      language, status)
        docs = mapper.documents(sheet)
        report = ElectionImportReport(str(path), source.digest, findings=list(sheet.findings),
                                      notes=mapper.notes)
        for reject in mapper.rejects:
            report.count(reject[0], "rejected")
            report.rejects.append(reject[1])
        broken = sum(1 for f in sheet.findings if f.code == "broken-line")
        damaged = f"{broken} broken line(s): a missing row may be a damaged one" \
            if broken else None
        present = frozenset((kind, r.id) for kind, r in mapper.rejects)
        return ElectionImport(node, node_dir, f"openelections:{slug}", report, progress,
                              tombstones=tombstones, damaged=damaged,
                              present=present).run(docs)
    finally:
        node.close()


def import_eml(settings: Settings, node_dir: Path, path: Path, *, slug: str | None = None,
               status: str = "unofficialComplete",
               progress: Progress | None = None,
               tombstones: bool = True, signature: Path | None = None,
               certificate: Path | None = None, trust: Path | None = None,
               require_signature: bool = False) -> ElectionImportReport:
    """Import one OASIS EML 510 count file (Dutch profile) into the node at ``node_dir``.

    A detached signature (``signature``, or found next to the file by
    :func:`.signature.discover`) is verified over the bytes read, before the node is
    opened: a failure raises :class:`.signature.SignatureRefused`, nothing imported."""
    from ddsnode.elections import eml
    from ddsnode.elections.signature import SignatureRefused, discover, verify_file
    source = read_source(path, settings.elections_max_source_bytes)
    found_sig, found_cert = discover(path)
    signature, certificate = signature or found_sig, certificate or found_cert
    configured = settings.elections_trusted_certificates
    if not trust and configured:  # relative to the node directory, like its other paths
        trust = node_dir / configured
    signer = None
    if signature is not None:
        signer = verify_file(source.data, signature, certificate, trust)
    elif require_signature or settings.elections_require_signature:
        raise SignatureRefused("file is not signed (no --signature, no FILE.sig or "
                               "FILE.p7s next to it) and a signature is required")
    slug = slug or source.slug("eml")
    node = Node.open(settings)
    try:
        mapper = eml.Mapper(Naming(node.base, slug), source.digest, source.name, status,
                            settings.elections_max_rows)
        root = eml.parse(source.data, source.name)
        docs = mapper.documents(root)
        if signer is not None:  # who vouches for every resource (prov:wasAttributedTo)
            for d in docs:
                d.doc["assertedBy"] = signer.agent(d.iri)
            mapper.notes.append(signer.text())
        report = ElectionImportReport(str(path), source.digest, findings=mapper.findings,
                                      notes=mapper.notes)
        return ElectionImport(node, node_dir, eml.ledger_key(root, slug), report, progress,
                              tombstones=tombstones).run(docs)
    finally:
        node.close()


def import_vip(settings: Settings, node_dir: Path, path: Path, *, slug: str | None = None,
               progress: Progress | None = None,
               tombstones: bool = True) -> ElectionImportReport:
    """Import one VIP 6.0 feed (polling places, precincts, street segments)."""
    from ddsnode.elections import vip
    return vip.import_vip(settings, node_dir, path, slug=slug, progress=progress,
                          tombstones=tombstones)


def import_popolo(settings: Settings, node_dir: Path, path: Path, *, slug: str | None = None,
                  progress: Progress | None = None,
                  tombstones: bool = True) -> ElectionImportReport:
    """Import Popolo persons, organizations and memberships (JSON) into ``node_dir``."""
    from ddsnode.elections import popolo
    from ddsnode.elections.importer import Reject
    source = read_source(path, settings.elections_max_source_bytes)
    slug = slug or source.slug("popolo")
    node = Node.open(settings)
    try:
        data = popolo.read_popolo(source.data, source.name, settings.elections_max_rows)
        mapper = popolo.Mapper(Naming(node.base, slug), source.digest, source.name)
        docs = mapper.documents(data)
        report = ElectionImportReport(str(path), source.digest, notes=mapper.notes)
        for kind, ident, reason in mapper.rejects:
            report.count(kind, "rejected")
            report.rejects.append(Reject(source.name, 0, ident, reason))
        present = frozenset((kind, ident) for kind, ident, _ in mapper.rejects)
        return ElectionImport(node, node_dir, f"popolo:{slug}", report, progress,
                              tombstones=tombstones, present=present).run(docs)
    finally:
        node.close()


def export_election(settings: Settings, election: str, fmt: str) -> str:
    """The election ``election`` (IRI or path) of the node as NIST JSON or CSV text."""
    from ddsnode.elections import export
    from ddsnode.elections.loading import node_model
    node = Node.open(settings)
    try:
        iri = election if "://" in election else node.base + election.lstrip("/")
        model = node_model(node, iri)
    finally:
        node.close()
    if fmt == "nist":
        return export.nist_json(model, issuer=settings.operator or settings.name)
    return export.csv_text(model)


def verify_source(source: str) -> Verification:
    """Verify the results in ``source`` (node directory, export file or node URL)."""
    from ddsnode.elections.loading import load_any
    return verify(load_any(source))
