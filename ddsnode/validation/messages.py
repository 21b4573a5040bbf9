"""The message catalogue of validation results: one template per constraint component
(and case), in English, French, Catalan and Spanish (STYLE.md, habit 14).

Fields filled in by ``validation.explanation``: ``term`` (the JSON-LD key), ``value``
(as written: a word, a quoted string, an IRI, ``{…}`` for an object without id),
``found`` (a count, or the types the document gives), ``bound`` (the constraint's
parameter), ``allowed`` (the accepted values, languages, classes or datatypes), ``lang``
(a duplicated language tag), ``example`` (JSON-LD to write) and ``rule`` (the shape's
``sh:message``, which exists in English and French: other languages get the English).
"""

from __future__ import annotations

LANGS = ("en", "fr", "ca", "es")

TEMPLATES: dict[str, dict[str, str]] = {
    "MinCount-missing": {
        "en": "`{term}` is missing (required: at least {bound}). {rule}",
        "fr": "`{term}` manque (requis : au moins {bound}). {rule}",
        "ca": "Hi falta `{term}` (obligatori: com a mínim {bound}). {rule}",
        "es": "Falta `{term}` (obligatorio: al menos {bound}). {rule}"},
    "MinCount-missing-lang": {
        "en": "`{term}` is missing (required: at least {bound}). In JSON-LD: {example}. {rule}",
        "fr": "`{term}` manque (requis : au moins {bound}). En JSON-LD : {example}. {rule}",
        "ca": "Hi falta `{term}` (obligatori: com a mínim {bound}). En JSON-LD: {example}. "
              "{rule}",
        "es": "Falta `{term}` (obligatorio: al menos {bound}). En JSON-LD: {example}. {rule}"},
    "MinCount": {
        "en": "`{term}` needs at least {bound} values; found {found}.",
        "fr": "`{term}` demande au moins {bound} valeurs ; {found} trouvée(s).",
        "ca": "`{term}` necessita com a mínim {bound} valors; se n'han trobat {found}.",
        "es": "`{term}` necesita al menos {bound} valores; se han encontrado {found}."},
    "MaxCount-one": {
        "en": "Only one `{term}` is allowed; found {found} ({value}). Keep one.",
        "fr": "Un seul `{term}` est permis ; {found} trouvés ({value}). N'en gardez qu'un.",
        "ca": "Només es permet un `{term}`; se n'han trobat {found} ({value}). Deixeu-ne un.",
        "es": "Solo se permite un `{term}`; se han encontrado {found} ({value}). Deje uno."},
    "MaxCount": {
        "en": "At most {bound} values of `{term}` are allowed; found {found} ({value}).",
        "fr": "Au plus {bound} valeurs de `{term}` sont permises ; {found} trouvées ({value}).",
        "ca": "Es permeten com a màxim {bound} valors de `{term}`; se n'han trobat {found} "
              "({value}).",
        "es": "Se permiten como máximo {bound} valores de `{term}`; se han encontrado {found} "
              "({value})."},
    "MaxCount-none": {
        "en": "`{term}` must not be given here; found {found} ({value}).",
        "fr": "`{term}` ne doit pas figurer ici ; {found} trouvé(s) ({value}).",
        "ca": "`{term}` no s'ha d'indicar aquí; se n'han trobat {found} ({value}).",
        "es": "`{term}` no debe indicarse aquí; se han encontrado {found} ({value})."},
    "In": {
        "en": "`{term}` is {value}, which is not an allowed value; use one of: {allowed}.",
        "fr": "`{term}` vaut {value}, qui n'est pas une valeur permise ; utilisez l'une de : "
              "{allowed}.",
        "ca": "`{term}` val {value}, que no és un valor permès; feu servir un de: {allowed}.",
        "es": "`{term}` vale {value}, que no es un valor permitido; use uno de: {allowed}."},
    "Datatype-lang": {
        "en": "`{term}` needs a language tag: write it as {example} in JSON-LD "
              "(\"…\"@en in Turtle); got {value} without one.",
        "fr": "`{term}` demande une étiquette de langue : écrivez {example} en JSON-LD "
              "(\"…\"@fr en Turtle) ; reçu {value} sans étiquette.",
        "ca": "`{term}` necessita una etiqueta d'idioma: escriviu {example} en JSON-LD "
              "(\"…\"@ca en Turtle); s'ha rebut {value} sense etiqueta.",
        "es": "`{term}` necesita una etiqueta de idioma: escriba {example} en JSON-LD "
              "(\"…\"@es en Turtle); se ha recibido {value} sin etiqueta."},
    "Datatype-not-literal": {
        "en": "`{term}` must be a value of type {bound}, not a link; got {value}.",
        "fr": "`{term}` doit être une valeur de type {bound}, pas un lien ; reçu {value}.",
        "ca": "`{term}` ha de ser un valor de tipus {bound}, no un enllaç; s'ha rebut {value}.",
        "es": "`{term}` debe ser un valor de tipo {bound}, no un enlace; se ha recibido "
              "{value}."},
    "Datatype-ill-typed": {
        "en": "`{term}` is {value}, which is not a valid {bound}. {rule}",
        "fr": "`{term}` vaut {value}, qui n'est pas un {bound} valide. {rule}",
        "ca": "`{term}` val {value}, que no és un {bound} vàlid. {rule}",
        "es": "`{term}` vale {value}, que no es un {bound} válido. {rule}"},
    "Datatype": {
        "en": "`{term}` must be of type {bound}; got {value}. {rule}",
        "fr": "`{term}` doit être de type {bound} ; reçu {value}. {rule}",
        "ca": "`{term}` ha de ser de tipus {bound}; s'ha rebut {value}. {rule}",
        "es": "`{term}` debe ser de tipo {bound}; se ha recibido {value}. {rule}"},
    "UniqueLang": {
        "en": "`{term}` has more than one value in language \"{lang}\"; keep one per language.",
        "fr": "`{term}` a plus d'une valeur dans la langue « {lang} » ; n'en gardez qu'une par "
              "langue.",
        "ca": "`{term}` té més d'un valor en l'idioma \"{lang}\"; deixeu-ne un per idioma.",
        "es": "`{term}` tiene más de un valor en el idioma \"{lang}\"; deje uno por idioma."},
    "LanguageIn": {
        "en": "`{term}` is in language {value}; allowed languages: {allowed}.",
        "fr": "`{term}` est dans la langue {value} ; langues permises : {allowed}.",
        "ca": "`{term}` és en l'idioma {value}; idiomes permesos: {allowed}.",
        "es": "`{term}` está en el idioma {value}; idiomas permitidos: {allowed}."},
    "MaxLength": {
        "en": "`{term}` is too long: at most {bound} characters; got {found}.",
        "fr": "`{term}` est trop long : au plus {bound} caractères ; reçu {found}.",
        "ca": "`{term}` és massa llarg: com a màxim {bound} caràcters; se n'han rebut {found}.",
        "es": "`{term}` es demasiado largo: como máximo {bound} caracteres; se han recibido "
              "{found}."},
    "MinLength": {
        "en": "`{term}` is too short: at least {bound} characters; got {found}.",
        "fr": "`{term}` est trop court : au moins {bound} caractères ; reçu {found}.",
        "ca": "`{term}` és massa curt: com a mínim {bound} caràcters; se n'han rebut {found}.",
        "es": "`{term}` es demasiado corto: al menos {bound} caracteres; se han recibido "
              "{found}."},
    "Pattern": {
        "en": "`{term}` is {value}, which does not have the expected form. {rule}",
        "fr": "`{term}` vaut {value}, qui n'a pas la forme attendue. {rule}",
        "ca": "`{term}` val {value}, que no té la forma esperada. {rule}",
        "es": "`{term}` vale {value}, que no tiene la forma esperada. {rule}"},
    "MinInclusive": {
        "en": "`{term}` is {value}; it must be at least {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir au moins {bound}.",
        "ca": "`{term}` val {value}; ha de valer com a mínim {bound}.",
        "es": "`{term}` vale {value}; debe valer al menos {bound}."},
    "MinExclusive": {
        "en": "`{term}` is {value}; it must be more than {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir plus de {bound}.",
        "ca": "`{term}` val {value}; ha de valer més de {bound}.",
        "es": "`{term}` vale {value}; debe valer más de {bound}."},
    "MaxInclusive": {
        "en": "`{term}` is {value}; it must be at most {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir au plus {bound}.",
        "ca": "`{term}` val {value}; ha de valer com a màxim {bound}.",
        "es": "`{term}` vale {value}; debe valer como máximo {bound}."},
    "MaxExclusive": {
        "en": "`{term}` is {value}; it must be less than {bound}.",
        "fr": "`{term}` vaut {value} ; il doit valoir moins de {bound}.",
        "ca": "`{term}` val {value}; ha de valer menys de {bound}.",
        "es": "`{term}` vale {value}; debe valer menos de {bound}."},
    "NodeKind-IRI-blank": {
        "en": "`{term}` must be a link (an IRI); got an object without an \"id\" (a blank "
              "node). Give that object an \"id\", or write the IRI it stands for.",
        "fr": "`{term}` doit être un lien (une IRI) ; reçu un objet sans \"id\" (un nœud "
              "anonyme). Donnez-lui un \"id\", ou écrivez l'IRI qu'il désigne.",
        "ca": "`{term}` ha de ser un enllaç (una IRI); s'ha rebut un objecte sense \"id\" (un "
              "node anònim). Doneu-li un \"id\", o escriviu la IRI que representa.",
        "es": "`{term}` debe ser un enlace (una IRI); se ha recibido un objeto sin \"id\" (un "
              "nodo anónimo). Dele un \"id\", o escriba la IRI que representa."},
    "NodeKind-IRI": {
        "en": "`{term}` must be a link (an IRI); got the value {value}. In JSON-LD write "
              "{{\"id\": \"https://…\"}}.",
        "fr": "`{term}` doit être un lien (une IRI) ; reçu la valeur {value}. En JSON-LD, "
              "écrivez {{\"id\": \"https://…\"}}.",
        "ca": "`{term}` ha de ser un enllaç (una IRI); s'ha rebut el valor {value}. En JSON-LD, "
              "escriviu {{\"id\": \"https://…\"}}.",
        "es": "`{term}` debe ser un enlace (una IRI); se ha recibido el valor {value}. En "
              "JSON-LD, escriba {{\"id\": \"https://…\"}}."},
    "NodeKind-node": {
        "en": "`{term}` must be a link or an object; got the value {value}.",
        "fr": "`{term}` doit être un lien ou un objet ; reçu la valeur {value}.",
        "ca": "`{term}` ha de ser un enllaç o un objecte; s'ha rebut el valor {value}.",
        "es": "`{term}` debe ser un enlace o un objeto; se ha recibido el valor {value}."},
    "NodeKind-literal": {
        "en": "`{term}` must be a value (text, number, date), not a link; got {value}.",
        "fr": "`{term}` doit être une valeur (texte, nombre, date), pas un lien ; reçu {value}.",
        "ca": "`{term}` ha de ser un valor (text, nombre, data), no un enllaç; s'ha rebut "
              "{value}.",
        "es": "`{term}` debe ser un valor (texto, número, fecha), no un enlace; se ha recibido "
              "{value}."},
    "Class": {
        "en": "`{term}` points at {value}, which is not a {allowed} in this document.",
        "fr": "`{term}` désigne {value}, qui n'est pas de type {allowed} dans ce document.",
        "ca": "`{term}` apunta a {value}, que no és de tipus {allowed} en aquest document.",
        "es": "`{term}` apunta a {value}, que no es de tipo {allowed} en este documento."},
    "Or-class": {
        "en": "`{term}` points at {value}, which this document types as {found}; it must be "
              "a {allowed} (or be described elsewhere, with no type given here).",
        "fr": "`{term}` désigne {value}, que ce document type comme {found} ; il doit être de "
              "type {allowed} (ou décrit ailleurs, sans type donné ici).",
        "ca": "`{term}` apunta a {value}, que aquest document tipifica com a {found}; ha de ser "
              "de tipus {allowed} (o descrit en un altre lloc, sense tipus aquí).",
        "es": "`{term}` apunta a {value}, que este documento tipifica como {found}; debe ser "
              "de tipo {allowed} (o estar descrito en otro lugar, sin tipo aquí)."},
    "Or-none": {
        "en": "`{term}` is {value}, which matches none of the accepted forms. {rule}",
        "fr": "`{term}` vaut {value}, qui ne correspond à aucune des formes acceptées. {rule}",
        "ca": "`{term}` val {value}, que no correspon a cap de les formes acceptades. {rule}",
        "es": "`{term}` vale {value}, que no corresponde a ninguna de las formas aceptadas. "
              "{rule}"},
    "Or-datatype": {
        "en": "`{term}` is {value}; it must be one of: {allowed}. {rule}",
        "fr": "`{term}` vaut {value} ; il doit être de l'un des types : {allowed}. {rule}",
        "ca": "`{term}` val {value}; ha de ser d'un d'aquests tipus: {allowed}. {rule}",
        "es": "`{term}` vale {value}; debe ser de uno de estos tipos: {allowed}. {rule}"},
    "HasValue": {
        "en": "`{term}` must include {bound}.",
        "fr": "`{term}` doit contenir {bound}.",
        "ca": "`{term}` ha d'incloure {bound}.",
        "es": "`{term}` debe incluir {bound}."},
    "Closed": {
        "en": "`{term}` is not a property this resource may have; remove it. {rule}",
        "fr": "`{term}` n'est pas une propriété permise pour cette ressource ; retirez-la. "
              "{rule}",
        "ca": "`{term}` no és una propietat permesa per a aquest recurs; traieu-la. {rule}",
        "es": "`{term}` no es una propiedad permitida para este recurso; quítela. {rule}"},
}
