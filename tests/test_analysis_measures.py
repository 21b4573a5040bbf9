"""Same topic, another measure (issue 13): figures, negation, an added action and another
object tell apart pairs that similarity calls duplicates. Cases are real Make.org proposals (bench labels) and
their Catalan, Spanish and English kin."""

from __future__ import annotations

import pytest

from ddsnode.analysis import duplicates
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.measures import difference, difference_across, statement

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


OBJECT_CASES = [
    # Another object: the same action on things that share no word.
    ("fr", "Il faut interdire la 5G", "Il faut interdire les pesticides", "another object"),
    ("fr", "Il faut consommer local", "Il faut consommer moins", "another object"),
    ("fr", "Il faut taxer le kérosène", "Il faut taxer les entreprises polluantes",
     "another object"),
    ("en", "Ban cars in the city centre", "We must ban pesticides", "another object"),
    ("en", "We need to consume less", "Consume local food", "another object"),
    ("ca", "Cal prohibir el 5G", "Cal prohibir els pesticides", "another object"),
    ("ca", "Cal consumir local", "Cal consumir menys", "another object"),
    ("es", "Hay que prohibir el 5G", "Hay que prohibir los pesticidas", "another object"),
    ("es", "Hay que consumir local", "Hay que consumir menos", "another object"),
    # The same object (a word in common), emphasis, no action, another action: not checked.
    ("fr", "Il faut relocaliser la production", "Il faut relocaliser au maximum.", None),
    ("fr", "Il faut interdire les pesticides",
     "Il faut interdire les pesticides dans les champs", None),
    ("fr", "Il faut un revenu universel", "Il faut un revenu de base", None),
    ("fr", "Il faut créer un revenu universel", "Il faut mettre en place un revenu universel",
     None),
    ("en", "Ban pesticides", "We must ban pesticides everywhere", None),
    ("en", "Ban cars now", "Ban cars", None),
    ("en", "A tax on kerosene", "A tax on polluting companies", None),  # no action
    ("ca", "Cal prohibir els pesticides", "Cal prohibir els pesticides als camps", None),
    ("ca", "Cal relocalitzar la producció", "Cal relocalitzar al màxim", None),
    ("es", "Hay que prohibir los pesticidas", "Hay que prohibir los pesticidas en los campos",
     None),
    ("es", "Hay que relocalizar la producción", "Hay que relocalizar al máximo", None),
    # "au maximum", "en masse" are emphasis; "le salaire maximum" names a thing.
    ("fr", "Il faut reboiser le territoire", "Il faut reboiser en masse.", None),
    ("fr", "Il faut instaurer un salaire maximum", "Il faut instaurer le salaire universel",
     "another object"),
    ("en", "Plant trees to the maximum", "Plant trees along roads", None),
    ("ca", "Cal instaurar un salari màxim", "Cal instaurar el salari universal",
     "another object"),
    ("es", "Hay que instaurar un salario máximo", "Hay que instaurar el salario universal",
     "another object"),
]

# Another object, told by what is said of the same thing (the words after the first share
# nothing); adverbs of manner and a word in common are not another object.
MODIFIER_CASES = [
    ("fr", "Il faut instaurer une taxe carbone",
     "Il faut instaurer une taxe sur les transactions financières", "another object"),
    ("fr", "Il faut sortir du nucléaire progressivement",
     "Il faut sortir du nucléaire intelligemment", None),
    ("fr", "Il faut instaurer un revenu universel", "Il faut instaurer un revenu universel de base",
     None),
    ("en", "Ban single-use plastic", "Ban plastic bags", None),  # the head comes last in en
    ("en", "Ban plastic bags", "We must ban plastic bottles", "another object"),
    ("en", "Ban plastic bags", "Ban plastic bags everywhere", None),
    ("en", "We must introduce a carbon tax", "Introduce a tax on financial transactions", None),
    ("ca", "Cal crear un impost sobre el carboni",
     "Cal crear un impost sobre les transaccions financeres", "another object"),
    ("ca", "Cal sortir del nuclear progressivament", "Cal sortir del nuclear intel·ligentment",
     None),
    ("es", "Hay que crear un impuesto al carbono",
     "Hay que crear un impuesto a las transacciones financieras", "another object"),
    ("es", "Hay que salir de la energía nuclear progresivamente",
     "Hay que salir de la energía nuclear inteligentemente", None),
]
# A negation in a purpose or a condition is not the measure's; one in the measure is.
PURPOSE_NEGATION_CASES = [
    ("fr", "Il faut une allocation pour les étudiants",
     "Il faut une allocation pour les étudiants pour ne pas avoir à travailler", None),
    ("fr", "Il faut limiter les naissances",
     "Il faut limiter les naissances tant que rien n'a changé", None),
    ("fr", "Il faut manger local", "Il ne faut pas manger local", "negation"),
    ("en", "Give students a grant", "Give students a grant so that they do not have to work",
     None),
    ("en", "Give students a grant", "Do not give students a grant", "negation"),
    ("ca", "Cal una beca per als estudiants",
     "Cal una beca per als estudiants perquè no hagin de treballar", None),
    ("ca", "Cal una beca per als estudiants", "No cal una beca per als estudiants", "negation"),
    ("es", "Hay que dar una beca a los estudiantes",
     "Hay que dar una beca a los estudiantes para que no tengan que trabajar", None),
    ("es", "Hay que dar una beca a los estudiantes", "No hay que dar una beca a los estudiantes",
     "negation"),
]
# "And", a pronoun or an adverb, then a verb: another action; "and" inside a purpose goes on
# with the purpose; in a statement of several actions the first is a measure too.
CLAUSE_CASES = [
    ("fr", "Il faut valoriser les aides aux familles",
     "Il faut valoriser les aides aux familles, et les diminuer pour les riches",
     "another action"),
    ("fr", "Il faut protéger les lanceurs d'alerte",
     "Il faut renforcer la liberté de la presse et mieux protéger les lanceurs d'alerte",
     "another action"),
    ("ca", "Cal protegir els boscos", "Cal protegir els boscos i també netejar-los",
     "another action"),
    ("es", "Hay que proteger los bosques", "Hay que proteger los bosques y también limpiarlos",
     "another action"),
    ("en", "Protect forests", "Protect forests and also clean them", None),  # no mark in en
    ("fr", "Il faut développer le réseau cyclable",
     "Il faut développer le réseau cyclable pour inciter au vélo et réduire notre empreinte",
     None),
    ("ca", "Cal ampliar la xarxa ciclable",
     "Cal ampliar la xarxa ciclable per fomentar la bicicleta i reduir la contaminació", None),
    ("es", "Hay que ampliar la red ciclista",
     "Hay que ampliar la red ciclista para fomentar la bici y reducir la contaminación", None),
    ("en", "Expand the cycle network",
     "Expand the cycle network so that people cycle and pollute less", None),
    ("fr", "Il faut baisser les tarifs ferroviaires",
     "Il faut taxer le transport aérien, et baisser les tarifs ferroviaires", "another action"),
    ("fr", "Il faut privilégier les circuits courts", "Il faut favoriser les circuits courts", None),
    ("ca", "Cal abaixar el preu del tren", "Cal gravar els vols, i abaixar el preu del tren",
     "another action"),
    ("es", "Hay que bajar el precio del tren", "Hay que gravar los vuelos, y bajar el precio del tren",
     "another action"),
    ("en", "Lower train fares", "Tax flights, and lower train fares", None),  # no mark in en
]


@pytest.mark.parametrize(("lang", "a", "b", "expected"), CASES + OBJECT_CASES + MODIFIER_CASES
                         + PURPOSE_NEGATION_CASES + CLAUSE_CASES)
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
                                                           "another action", "another object")


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


def test_a_pair_with_another_object_is_no_candidate() -> None:
    items = [proposal("a", "Il faut interdire la 5G"),
             proposal("b", "Il faut interdire les pesticides"),
             proposal("c", "Il faut interdire la 5G partout"),
             proposal("d", "Il faut planter des arbres dans les cours d'école")]
    found = duplicates.scores(items, 0.3)
    a, b, c = (f"https://node.example/proposals/{s}" for s in "abc")
    assert (a, b) not in found and (b, c) not in found  # the same action, another object
    assert (a, c) in found  # the same object, a place added: the same measure


def test_a_translation_gets_only_the_checks_of_before() -> None:
    """A machine translation words the same measure otherwise: the checks that compare
    objects and purposes are not run on it (they cost recall across languages)."""
    a, b = "Il faut interdire la 5G", "Il faut interdire les pesticides"
    assert difference(a, b, "fr") == "another object"
    assert difference(a, b, "fr", translated=True) is None
    purpose = "Il faut une allocation pour les étudiants pour ne pas avoir à travailler"
    assert difference("Il faut une allocation pour les étudiants", purpose, "fr") is None
    assert difference("Il faut une allocation pour les étudiants", purpose, "fr",
                      translated=True) == "negation"
    assert difference("Il faut plafonner les salaires", "Il faut plafonner les salaires et "
                      "augmenter le SMIC", "fr", translated=True) == "another action"


@pytest.mark.parametrize(("a", "lang_a", "b", "lang_b", "expected"), [
    ("Il faut interdire la 5G", "fr", "Hay que prohibir los pesticidas", "es", None),
    ("Give students a grant", "en", "Cal una beca per als estudiants perquè no hagin de "
     "treballar", "ca", "negation"),
    ("Il faut plafonner les salaires", "fr", "Cal limitar els sous i apujar el mínim", "ca",
     "another action"),
    ("Hay que limitar los salarios de 1 a 5", "es", "Cap salaries at 1 to 10", "en", "figures"),
])
def test_across_languages_the_checks_are_those_of_before(a: str, lang_a: str, b: str,
                                                         lang_b: str,
                                                         expected: str | None) -> None:
    assert difference_across(a, lang_a, b, lang_b) == expected
    assert difference_across(b, lang_b, a, lang_a) == expected
