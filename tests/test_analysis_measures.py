"""Same topic, another measure (issue 13): figures, negation and an added action tell apart
pairs that similarity calls duplicates. Cases are real Make.org proposals (bench labels) and
their Catalan, Spanish and English kin."""

from __future__ import annotations

import pytest

from ddsnode.analysis import duplicates
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.measures import difference, statement

# (language, a, b, expected difference or None)
CASES = [
    ("fr", "Il faut limiter les écarts de salaire de 1 à 5 dans toutes les entreprises.",
     "Il faut limiter les écarts de salaires de 1 à 10", "figures"),
    ("fr", "Il faut limiter les écarts de salaire de 1 à 5 dans toutes les entreprises.",
     "Il faut limiter l'écart de salaire entre les salariés et les patrons", None),
    ("fr", "Il faut manger bio et local.", "Il faut ne manger que local", "negation"),
    ("fr", "Il faut plafonner les salaires", "Il faut plafonner les salaires et augmenter le SMIC.",
     "another action"),
    ("fr", "Il faut rétablir l'ISF", "Il faut rétablir l'ISF, stopper l’évasion fiscale, "
     "redéfinir le CICE pour récupérer 120 milliards de budget par an", "another action"),
    ("fr", "Il faut replanter haies et bocages, et protéger les zones humides",
     "Il faut replanter des haies pour protéger la biodiversité.", None),
    ("fr", "Il faut replanter haies et bocages, et protéger les zones humides",
     "Il faut replanter des haies.", "another action"),
    # A purpose, a scope, an added object: the same measure.
    ("fr", "Il faut mettre en place un revenu universel pour limiter les inégalités.",
     "Il faut mettre en place le revenu universel", None),
    ("fr", "Il faut interdire la chasse et l'élevage d'animaux pour la chasse.",
     "Il faut interdire la chasse", None),
    ("fr", "Il faut interdire la publicité ou la taxer à 100% (ou plus)",
     "Il faut interdire la publicité", None),
    ("fr", "Il faut consommer local.", "Il faut consommer local, régional et au pire national",
     None),
    ("es", "Hay que limitar los salarios de 1 a 5", "Hay que limitar los salarios de 1 a 10",
     "figures"),
    ("es", "Hay que limitar los salarios", "Hay que limitar los salarios y subir el mínimo",
     "another action"),
    ("ca", "Cal tancar el carrer al trànsit", "No cal tancar el carrer al trànsit", "negation"),
    ("ca", "Cal plantar arbres", "Cal plantar arbres i crear un jardí", "another action"),
    ("en", "Ban cars in the centre", "Do not ban cars in the centre", "negation"),
    ("en", "Cap salaries at 5 times the minimum", "Cap salaries at 10 times the minimum",
     "figures"),
    ("en", "Cap salaries", "Cap salaries and raise the minimum wage", None),  # no mark in en
]


@pytest.mark.parametrize(("lang", "a", "b", "expected"), CASES)
def test_difference(lang: str, a: str, b: str, expected: str | None) -> None:
    assert difference(a, b, lang) == expected
    assert difference(b, a, lang) == expected  # symmetric


def test_only_the_statement_is_read() -> None:
    """A body says much more than its title: only the first line states the measure."""
    a = "Plafonner les salaires\nEt augmenter le SMIC, taxer les dividendes, créer des emplois."
    assert statement(a) == "Plafonner les salaires"
    assert difference(a, "Plafonner les salaires\nPour la justice.", "fr") is None


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "123 456", ",,,;;; et et et", "é" * 50_000,
                                  "Il faut " + "taxer, " * 5_000, "\x00\ufeff\u202e",
                                  "Il faut taxer" + "," * 20_000, ", " * 10_000 + "taxer"])
def test_hostile_text_gives_an_answer(text: str) -> None:
    for lang in ("fr", "en", "ca", "es", "de", ""):
        assert difference(text, "Il faut taxer", lang) in (None, "figures", "negation",
                                                           "another action")


def proposal(slug: str, text: str) -> Contribution:
    return Contribution(f"https://node.example/proposals/{slug}", "Proposal", texts={"fr": text})


def test_a_pair_with_another_figure_is_no_candidate() -> None:
    items = [proposal("a", "Il faut limiter les écarts de salaire de 1 à 5 dans les entreprises"),
             proposal("b", "Il faut limiter les écarts de salaire de 1 à 10 dans les entreprises"),
             proposal("c", "Il faut limiter les écarts de salaire dans les entreprises"),
             proposal("d", "Il faut planter des arbres dans les cours d'école")]
    found = duplicates.scores(items, 0.45)
    a, b, c = (f"https://node.example/proposals/{s}" for s in "abc")
    assert (a, b) not in found  # similar words, another figure
    assert (a, c) in found and (b, c) in found  # a figure added: the same measure
