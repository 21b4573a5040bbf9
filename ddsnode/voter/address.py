"""What a voter types, made comparable: folded text, a house number, a street, a postcode.

The same folding is applied when the table is built (to the streets of VIP segments and
the postcodes of stations) and when a voter asks, so ``3 Quai des Tanneurs`` and
``3 QUAI DES TANNEURS`` meet, and so do ``Peña`` and ``PENA`` (Unicode NFKD, combining
marks dropped, ``str.casefold``). Common street words are shortened as the USPS
Publication 28 (C1, C2) abbreviates them, because VIP feeds write ``N 32ND ST`` while a
voter writes ``North 32nd Street``. Parsing is a few regular expressions over a bounded
string: no backtracking-prone pattern, no geocoder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: USPS Publication 28, C1 (street suffixes) and C2 (directionals), the common ones;
#: French words are kept whole (``rue``, ``quai``), their folding is enough.
SHORT = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "parkway": "pkwy",
    "highway": "hwy", "circle": "cir", "terrace": "ter", "trail": "trl", "way": "way",
    "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne",
    "northwest": "nw", "southeast": "se", "southwest": "sw",
}
NOT_WORD = re.compile(r"[^0-9a-z]+")
#: A US ZIP (5 digits, optional +4) or a French code postal (5 digits), or a UK postcode.
POSTCODE = re.compile(r"\b(\d{5})(?:-\d{4})?\b|\b([a-z]{1,2}\d[a-z\d]?) ?(\d[a-z]{2})\b")
#: A house number, with a letter written against it (``12b``) or ``bis``/``ter`` (French).
HOUSE = re.compile(r"^(\d{1,7})(?:[a-z]\b|\s?(?:bis|ter)\b)?")


def fold(text: str) -> str:
    """``text`` lower case, without accents, punctuation as single spaces."""
    # ASCII is its own NFKD form and has no combining marks: most queries skip the
    # per-character pass (it was a sixth of a lookup's time in the application).
    plain = text if text.isascii() else "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return NOT_WORD.sub(" ", plain.casefold()).strip()


def street_key(text: str) -> str:
    """A street name as the table keys it: folded, common words shortened."""
    return " ".join(SHORT.get(word, word) for word in fold(text).split())


def postcode_key(text: str) -> str:
    """A postcode as the table keys it: folded, no spaces (``SW1A 1AA`` -> ``sw1a1aa``)."""
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Address:
    """A parsed query: house number, street words (shortened), postcode key (may be empty)."""

    number: int | None
    street: str
    postcode: str

    def street_prefixes(self, most: int = 12) -> list[str]:
        """The street part and every shorter run of its first words: a query ``n 32nd st
        phoenix az`` finds the segment keyed ``n 32nd st`` by an exact index lookup."""
        words = self.street.split()[:most]
        return [" ".join(words[:n]) for n in range(len(words), 0, -1)]


def parse(text: str) -> Address:
    """Parse ``1234 N Main Street, Phoenix AZ 85001`` or ``3 quai des Tanneurs 69990``."""
    postcode = ""
    for match in POSTCODE.finditer(fold(text)):
        # the last postcode-like token wins: a house number comes first
        postcode = match.group(1) or (match.group(2) + match.group(3))
    head = fold(text.split(",", 1)[0])
    number = None
    house = HOUSE.match(head)  # first: a US house number has five digits too
    if house is not None and not (postcode and head == postcode):
        number = int(house.group(1))
        head = head[house.end():].strip()
    if postcode:
        head = POSTCODE.sub(" ", head).strip()
    return Address(number, " ".join(SHORT.get(w, w) for w in head.split()), postcode)
