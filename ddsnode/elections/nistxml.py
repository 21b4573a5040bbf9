"""NIST SP 1500-100 XML, read safely, as the v2 JSON structure :mod:`.nist` maps.

The XML feeds in the wild (NIST's own samples, Google's civics_cdf_validator) wrap lists
in ``*Collection`` elements, name objects with an ``objectId`` attribute and their
subtype with ``xsi:type``; a few element names differ from the v2 JSON schema
(``BallotSelection`` is ``ContestSelection``, ``ElectoralDistrictId`` is
``ElectionDistrictId``). This module turns the tree into the JSON form, so one mapper
reads both.

Parsing: defusedxml with DTDs forbidden. A feed has no use for a DTD, and a DTD is how
entity-expansion attacks (billion laughs, quadratic blowup) and external entities
(XXE, network or file reads) come in, so a document with one is refused outright
(OWASP XML External Entity Prevention Cheat Sheet).
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
RENAMED = {"BallotSelection": "ContestSelection", "ElectoralDistrictId": "ElectionDistrictId",
           "ExternalIdentifiers": "ExternalIdentifier"}
# Elements that are lists in the v2 JSON schema even when they occur once.
LISTS = frozenset({
    "Election", "GpUnit", "Party", "Person", "Office", "Contest", "Candidate",
    "ContestSelection", "VoteCounts", "ExternalIdentifier", "CountStatus", "BallotCounts",
    "OtherCounts", "Text", "ContactInformation", "AddressLine", "Email", "Phone", "Uri",
    "Header", "BallotStyle", "Coalition", "OfficeGroup",
})
INTERNATIONALIZED = "ElectionResults.InternationalizedText"


class UnsafeXml(ValueError):
    """The XML was refused: not well-formed, or it declares a DTD or entities."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(data: bytes) -> dict[str, Any]:
    """The ElectionReport in ``data`` as a v2 JSON object; :class:`UnsafeXml` if refused."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True,
                          forbid_external=True)
    except DefusedXmlException as e:
        raise UnsafeXml(f"refused: the XML declares a DTD or entities ({type(e).__name__}); "
                        "NIST feeds need neither") from None
    except ParseError as e:
        raise UnsafeXml(f"not well-formed XML: {e}") from None
    if _local(root.tag) != "ElectionReport":
        raise UnsafeXml(f"the root element is {_local(root.tag)}, not ElectionReport")
    report = _object(root, "ElectionReport")
    return report if isinstance(report, dict) else {}


def _object(element: Element, name: str) -> Any:
    children = list(element)
    kind = element.get(XSI_TYPE)
    if not children:
        text = (element.text or "").strip()
        if name.endswith("Ids"):
            return text.split()
        return text
    if all(_local(c.tag) == "Text" for c in children):
        # BallotName, Name, FullText ...: language-tagged texts.
        return {"@type": INTERNATIONALIZED, "Text": [
            {"@type": "ElectionResults.LanguageString", "Content": (c.text or "").strip(),
             "Language": c.get("language", "")} for c in children]}
    out: dict[str, Any] = {"@type": f"ElectionResults.{(kind or name).split(':')[-1]}"}
    if element.get("objectId"):
        out["@id"] = element.get("objectId")
    for child in children:
        tag = _local(child.tag)
        if tag.endswith("Collection") or tag == "ExternalIdentifiers":
            key = RENAMED.get(tag, tag[: -len("Collection")])
            items = out.setdefault(key, [])
            for item in child:
                items.append(_object(item, RENAMED.get(_local(item.tag), _local(item.tag))))
            continue
        key = RENAMED.get(tag, tag)
        value = _object(child, key)
        if key in LISTS:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out
