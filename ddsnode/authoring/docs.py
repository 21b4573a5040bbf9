"""``ddsnode ontology docs OUTDIR``: static HTML documentation of the ontology.

One folder per language (``en/``, ``fr/``): an index (ontology metadata, modules, class
and property indexes, concept schemes), a page per class, per property and per concept
scheme, with the shapes that constrain them and the examples that use them. Examples are
copied into ``OUTDIR/examples/`` so every link stays inside the site.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import rdflib
from rdflib.collection import Collection
from rdflib.term import Node

from ddsnode import resources
from ddsnode.authoring.catalog import (
    ALIGNMENT,
    DOMAINS,
    RANGES,
    Catalog,
    objects,
    scheme_slug,
    slug,
    sort_key,
    subjects,
)
from ddsnode.authoring.html import (
    LANGUAGE_NAMES,
    esc,
    items,
    link,
    page,
    section,
    stylesheet,
    table,
    word,
)
from ddsnode.authoring.sources import Sources
from ddsnode.rdf.vocab import DCTERMS, OWL, RDF, RDFS, SH, SHAPES_NS, SKOS

# The shape every reference's sh:or ends with: "the target is not described here".
NOT_TYPED_HERE = rdflib.URIRef(SHAPES_NS + "NotTypedHere")


def _meta(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows if v)
    return f'<dl class="meta">{cells}</dl>'


def _constraint_values(cat: Catalog, shape: Node, lang: str, up: str) -> str:
    """What a property shape allows: datatype, class, node kind, sh:in list, pattern, ..."""
    parts = []
    for predicate in (SH.datatype, SH["class"], SH.nodeKind, SH.hasValue, SH.node):
        parts += [cat.ref(o, lang, up) for o in objects(cat.shapes, shape, predicate)]
    for listed in objects(cat.shapes, shape, SH["or"]):
        parts.append(esc(word("any_of", lang)) + " " + " | ".join(
            _alternative(cat, member, lang, up) for member in Collection(cat.shapes, listed)))
    for listed in objects(cat.shapes, shape, SH["in"]):
        values = [cat.ref(v, lang, up) if isinstance(v, rdflib.URIRef) else esc(v)
                  for v in Collection(cat.shapes, listed)]
        parts.append(esc(word("one_of", lang)) + " " + ", ".join(values))
    for predicate in (SH.pattern, SH.minInclusive, SH.maxInclusive, SH.minLength,
                      SH.maxLength, SH.languageIn, SH.uniqueLang):
        for o in objects(cat.shapes, shape, predicate):
            shown = str(o) if not isinstance(o, rdflib.BNode) else " ".join(
                str(item) for item in Collection(cat.shapes, o))
            parts.append(f"{esc(cat.curie(predicate))} <code>{esc(shown)}</code>")
    return "<br>".join(parts)


def _alternative(cat: Catalog, member: Node, lang: str, up: str) -> str:
    """One member of an ``sh:or`` list: its class or datatype, else the shape's name."""
    if member == NOT_TYPED_HERE:
        return esc(word("not_typed_here", lang))
    found = [cat.ref(o, lang, up) for p in (SH["class"], SH.datatype)
             for o in objects(cat.shapes, member, p)]
    if found:
        return ", ".join(found)
    if isinstance(member, rdflib.URIRef):
        return f"<code>{esc(cat.curie(member))}</code>"
    return esc(word("other_shape", lang))


def _shape_text(cat: Catalog, shape: Node, predicate: rdflib.URIRef, lang: str) -> str:
    """A literal of a shape in ``lang``, else English, else untagged, else empty."""
    values = {o.language or "": str(o) for o in cat.shapes.objects(shape, predicate)
              if isinstance(o, rdflib.Literal)}
    return next((values[k] for k in (lang, "en", "") if k in values), "")


def _constraint_row(cat: Catalog, prop: Node, lang: str, up: str, owner: str = "") -> list[str]:
    path = cat.shapes.value(prop, SH.path)
    low = cat.shapes.value(prop, SH.minCount)
    high = cat.shapes.value(prop, SH.maxCount)
    cardinality = f"{low if low is not None else 0}..{high if high is not None else '*'}"
    severity = str(cat.shapes.value(prop, SH.severity) or SH.Violation).rsplit("#", 1)[-1]
    row = [owner] if owner else []
    where = ""
    if path is not None:
        term = cat.json_term(path, cat.shapes.value(prop, SH.datatype))
        where = (f"{term}<br><small>{cat.ref(path, lang, up)}</small>" if term
                 else cat.ref(path, lang, up))
    return row + [where, esc(cardinality),
                  _constraint_values(cat, prop, lang, up),
                  f'<span class="severity-{esc(severity)}">{esc(severity)}</span>',
                  _message(_shape_text(cat, prop, SH.message, lang))]


def _message(text: str) -> str:
    """An sh:message as HTML: escaped, with the `term` spans the messages use as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def _row_key(cat: Catalog, path: Node) -> str:
    """Rows sort by the JSON term a document writes, else by the path's local name."""
    terms = cat.json_terms.get(str(path))
    return sort_key(terms[0] if terms else cat.curie(path).split(":")[-1])


def _headers(lang: str) -> list[str]:
    return [word(k, lang) for k in ("path", "cardinality", "values", "severity", "message")]


def _example_links(used: list[str], up: str, lang: str) -> str:
    return items([link(f"{up}../examples/{name}", name) for name in used], lang)


def class_page(cat: Catalog, cls: rdflib.URIRef, lang: str) -> str:
    """The body of a class page."""
    up = "../"
    body = [f"<p>{esc(cat.text(cls, RDFS.comment, lang) or '')}</p>", _meta([
        (word("iri", lang), f'<code class="iri">{esc(cls)}</code>'),
        (word("json_type", lang), cat.json_term(cls)),
        (word("defined_in", lang), esc(cat.module_of(cls))),
        (word("superclasses", lang), ", ".join(
            cat.ref(o, lang, up) for o in objects(cat.onto, cls, RDFS.subClassOf)
            if isinstance(o, rdflib.URIRef))),
        (word("subclasses", lang), ", ".join(
            cat.ref(s, lang, up) for s in subjects(cat.onto, RDFS.subClassOf, cls))),
        (word("alignment", lang), ", ".join(
            f"{esc(cat.curie(p))} {cat.ref(o, lang, up)}" for p in ALIGNMENT
            for o in objects(cat.onto, cls, p))),
    ])]
    own_and_inherited = []
    ancestors: list[Node] = sorted(
        {a for a in cat.onto.transitive_objects(cls, RDFS.subClassOf) if a is not None} - {cls},
        key=str)
    for ancestor in [cls, *ancestors]:
        if ancestor != cls and ancestor not in cat.classes:
            continue  # only our classes: external ones have no domain declarations here
        via = "" if ancestor == cls else (
            f' <small>({esc(word("inherited_from", lang))} {cat.ref(ancestor, lang, up)})</small>')
        found = {p for d in DOMAINS for p in subjects(cat.onto, d, ancestor)}
        own_and_inherited += [cat.ref(p, lang, up) + via
                              for p in sorted(found, key=lambda p: sort_key(cat.label(p, lang)))]
    body.append(section(word("domain_of", lang), items(own_and_inherited, lang)))
    body.append(section(word("range_of", lang), items(
        [cat.ref(p, lang, up) for r in RANGES for p in subjects(cat.onto, r, cls)], lang)))
    shapes_html = []
    for shape in subjects(cat.shapes, SH.targetClass, cls):
        props = sorted(objects(cat.shapes, shape, SH.property),
                       key=lambda p: (_row_key(cat, cat.shapes.value(p, SH.path) or p), str(p)))
        rows = [_constraint_row(cat, prop, lang, up) for prop in props]
        note = _shape_text(cat, shape, RDFS.comment, lang)
        shapes_html.append(f'<h3 id="{esc(slug(shape))}"><code>{esc(cat.curie(shape))}</code>'
                           f"</h3>" + (f"<p>{esc(note)}</p>" if note else "")
                           + table(_headers(lang), rows, lang))
    body.append(section(word("shapes", lang), "".join(shapes_html) or items([], lang)))
    used = [name for name, g in cat.examples.items() if (None, RDF.type, cls) in g]
    body.append(section(word("examples", lang), _example_links(used, up, lang)))
    return "\n".join(body)


def property_page(cat: Catalog, prop: rdflib.URIRef, lang: str) -> str:
    """The body of a property page."""
    up = "../"
    kinds = ", ".join(cat.curie(t) for t in objects(cat.onto, prop, RDF.type))
    body = [f"<p>{esc(cat.text(prop, RDFS.comment, lang) or '')}</p>", _meta([
        (word("iri", lang), f'<code class="iri">{esc(prop)}</code>'),
        (word("json_term", lang), cat.json_term(prop)),
        (word("kind", lang), esc(kinds)),
        (word("defined_in", lang), esc(cat.module_of(prop))),
        (word("domain", lang), ", ".join(cat.ref(o, lang, up) for d in DOMAINS
                                         for o in objects(cat.onto, prop, d))),
        (word("range", lang), ", ".join(cat.ref(o, lang, up) for r in RANGES
                                        for o in objects(cat.onto, prop, r))),
        (word("subproperty_of", lang), ", ".join(
            cat.ref(o, lang, up) for o in objects(cat.onto, prop, RDFS.subPropertyOf))),
        (word("subproperties", lang), ", ".join(
            cat.ref(s, lang, up) for s in subjects(cat.onto, RDFS.subPropertyOf, prop))),
        (word("alignment", lang), ", ".join(
            f"{esc(cat.curie(p))} {cat.ref(o, lang, up)}" for p in ALIGNMENT
            for o in objects(cat.onto, prop, p))),
    ])]
    rows = []
    for shape in subjects(cat.shapes, SH.path, prop):
        owners = [o for o in subjects(cat.shapes, SH.property, shape)]
        targets = [t for o in owners for t in objects(cat.shapes, o, SH.targetClass)]
        owner = ", ".join(cat.ref(t, lang, up) for t in targets) or ", ".join(
            f"<code>{esc(cat.curie(o))}</code>" for o in owners if isinstance(o, rdflib.URIRef))
        rows.append(_constraint_row(cat, shape, lang, up, owner=owner or "&nbsp;"))
    body.append(section(word("used_in_shapes", lang),
                        table([word("targets", lang)] + _headers(lang), rows, lang)))
    used = [name for name, g in cat.examples.items() if (None, prop, None) in g]
    body.append(section(word("examples", lang), _example_links(used, up, lang)))
    return "\n".join(body)


def _scheme_name(cat: Catalog, concept: Node, lang: str) -> str:
    """``Scheme label, `` for a concept of another scheme (escaped), else empty."""
    scheme = cat.onto.value(concept, SKOS.inScheme)
    return f"{esc(cat.label(scheme, lang))}, " if scheme is not None else ""


def scheme_page(cat: Catalog, scheme: rdflib.URIRef, lang: str) -> str:
    """The body of a concept scheme page: every concept, with an anchor each."""
    up = "../"
    rows = []
    for concept in subjects(cat.onto, SKOS.inScheme, scheme):
        align = ", ".join(f"{esc(cat.curie(p))} {cat.ref(o, lang, up)}" for p in ALIGNMENT
                          for o in objects(cat.onto, concept, p))
        inbound = ", ".join(f"{cat.ref(s, lang, up)} <small>({_scheme_name(cat, s, lang)}"
                            f"{esc(cat.curie(p))})</small>"
                            for p in ALIGNMENT for s in subjects(cat.onto, p, concept))
        if inbound:
            align += ("<br>" if align else "") + f"{esc(word('mapped_from', lang))} {inbound}"
        anchor = (f'<span id="{esc(slug(concept))}"><code class="term">{esc(slug(concept))}'
                  "</code></span>")
        rows.append([anchor, esc(cat.label(concept, lang)),
                     esc(cat.text(concept, SKOS.definition, lang) or ""), align])
    headers = [word(k, lang) for k in ("notation", "label", "definition", "alignment")]
    return "\n".join([
        f"<p>{esc(cat.text(scheme, SKOS.definition, lang) or '')}</p>",
        _meta([(word("iri", lang), f'<code class="iri">{esc(scheme)}</code>')]),
        section(word("concepts", lang), table(headers, rows, lang))])


def _umbrella(cat: Catalog) -> Node | None:
    """The ontology the modules are part of: the ontology IRI, else one that is no part."""
    ontologies = sorted(cat.onto.subjects(RDF.type, OWL.Ontology), key=str)
    preferred = rdflib.URIRef(resources.ONTOLOGY_IRI)
    if preferred in ontologies:
        return preferred
    return next((o for o in ontologies if (o, DCTERMS.isPartOf, None) not in cat.onto),
                ontologies[0] if ontologies else None)


def _modules(cat: Catalog, lang: str) -> list[str]:
    """One entry per ontology file: its title, file name, and the terms it declares."""
    entries = []
    for name, g in cat.modules.items():
        ontology = next(iter(g.subjects(RDF.type, OWL.Ontology)), None)
        title = cat.label(ontology, lang) if ontology is not None else ""
        terms = sorted(t for t in cat.classes + cat.properties if (t, RDF.type, None) in g)
        if ontology is None:  # a scheme file: link its schemes instead
            terms = sorted(s for s in cat.schemes if (s, RDF.type, SKOS.ConceptScheme) in g)
        listing = ", ".join(cat.ref(t, lang, "") for t in terms)
        entries.append((f"<strong>{esc(title)}</strong> " if title else "")
                       + f"<code>{esc(name)}</code>" + (f"<br>{listing}" if listing else ""))
    return entries


def index_page(cat: Catalog, lang: str) -> tuple[str, str]:
    """The title and body of a language's index page."""
    ontology = _umbrella(cat)
    title, meta, description = "Democracy Data Space", "", ""
    if ontology is not None:
        title = cat.label(ontology, lang)
        meta = _meta([
            (word("iri", lang), f'<code class="iri">{esc(ontology)}</code>'),
            (word("version_iri", lang), esc(cat.onto.value(ontology, OWL.versionIRI) or "")),
            (word("version", lang), esc(cat.onto.value(ontology, OWL.versionInfo) or ""))])
        description = (cat.text(ontology, DCTERMS.description, lang)
                       or cat.text(ontology, RDFS.comment, lang) or "")
    def by_label(t: rdflib.term.Node) -> str:
        return sort_key(cat.label(t, lang))

    body = [f"<p>{esc(description)}</p>", meta,
            section(word("modules", lang), items(_modules(cat, lang), lang), "modules"),
            section(word("classes", lang), '<div class="columns">' + items(
                [cat.ref(c, lang, "") for c in sorted(cat.classes, key=by_label)], lang)
                + "</div>", "classes"),
            section(word("properties", lang), '<div class="columns">' + items(
                [cat.ref(p, lang, "") for p in sorted(cat.properties, key=by_label)], lang)
                + "</div>", "properties"),
            section(word("schemes", lang), items(
                [cat.ref(s, lang, "") for s in cat.schemes], lang), "schemes")]
    return title, "\n".join(body)


def write_site(src: Sources, outdir: Path, languages: list[str]) -> int:
    """Write the whole site into ``outdir``; returns the number of HTML pages written."""
    cat = Catalog.load(src)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "style.css").write_text(stylesheet(), encoding="utf-8")
    (outdir / "examples").mkdir(exist_ok=True)
    for path in src.example_files():
        shutil.copyfile(path, outdir / "examples" / path.name)
    pages: list[tuple[str, rdflib.URIRef | None]] = [("index.html", None)]
    pages += [(f"class/{slug(c)}.html", c) for c in cat.classes]
    pages += [(f"property/{slug(p)}.html", p) for p in cat.properties]
    pages += [(f"scheme/{scheme_slug(s)}.html", s) for s in cat.schemes]
    clashes = sorted(rel for rel, n in Counter(rel for rel, _ in pages).items() if n > 1)
    if clashes:
        raise ValueError(f"several terms would share the page(s) {', '.join(clashes)}")
    for lang in languages:
        for rel, term in pages:
            up = "../" if "/" in rel else ""
            if term is None:
                title, body = index_page(cat, lang)
            elif rel.startswith("class/"):
                title, body = cat.label(term, lang), class_page(cat, term, lang)
            elif rel.startswith("property/"):
                title, body = cat.label(term, lang), property_page(cat, term, lang)
            else:
                title, body = cat.label(term, lang), scheme_page(cat, term, lang)
            switcher = {code: f"{up}../{code}/{rel}" for code in languages}
            html = page(lang=lang, title=title, body=body, root=up + "../", switcher=switcher,
                        home=f"{up}index.html")
            target = outdir / lang / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
    choices = {code: f"{code}/index.html" for code in languages}
    body = items([f'<a href="{esc(href)}" hreflang="{esc(code)}" lang="{esc(code)}">'
                  f"{esc(LANGUAGE_NAMES.get(code, code))}</a>" for code, href in choices.items()],
                 "en")
    (outdir / "index.html").write_text(page(
        lang=languages[0] if languages else "en", title="Democracy Data Space", body=body,
        root="", switcher=choices, home=next(iter(choices.values()), "index.html")),
        encoding="utf-8")
    return len(pages) * len(languages) + 1
