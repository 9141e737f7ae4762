"""English words of the claim extractor: events, movement, doubt, denial, references."""

from __future__ import annotations

import re

from sitewatch.reports.word_lexicon import Lexicon

__all__ = ["ENGLISH"]

_TRIGGERS: dict[str, str] = {
    "construction": (
        r"construct\w*|build(?:s|ing)?|built|expan(?:d|ds|ded|ding|sion|sions)|extend(?:s|ed|ing)?|extension|"
        r"level+(?:ed|ing)|concret(?:e|ed|ing)|pav(?:ed|ing)|asphalt\w*|bulldoz\w*|excavat\w*|earthworks?|"
        r"earth-?moving|fortif\w*|berms?|erect(?:s|ed|ing|ion)|new\s+facilit\w+|new\s+(?:hangars?|buildings?|"
        r"structures?|warehouses?|barracks|towers?|watchtowers?|runway|helipads?|helicopter\s+pads?|aprons?|taxiways?|hardstands?|"
        r"pads?|shelters?|bunkers?|walls?|fences?|positions?|roads?)|went\s+up|heavy\s+machinery|engineering\s+works?|"
        r"runway\s+(?:works?|extension|expansion)|growth|upgrad\w+|renovat\w+|install(?:ed|ing)|"
        r"clear(?:ed|ing)\s+(?:of\s+)?(?:land|ground|sites?|the\s+site)|groundwork|foundations?|"
        # "two cleared areas" is news; "the cleared area" refers back to work already told
        r"(?<!the\s)(?<!this\s)(?<!these\s)(?<!that\s)cleared\s+(?:(?:two|three|four|several|\d+)\s+)?areas?|"
        r"works?\s+(?:began|begun|started|continued|resumed)|(?:was|were|been|being)\s+laid"
    ),
    "withdrawal": (
        r"withdr[ae]w\w*|evacuat\w*|pull(?:ed|ing|s)?\s+out|pull-?out|drawdown|draw(?:ing|n)?\s+down|"
        r"vacat(?:e|ed|ing)|abandon\w*|dismantl\w*|hand(?:ed|ing)?\s+over|handover|departed|"
        r"clos(?:ed|ing|ure\s+of)\s+(?:the\s+|its\s+)?(?:base|facility|site|outpost)|exit(?:ed)?\s+from|"
        r"reduc(?:e|ed|es|ing|tion)|consolidat\w+|(?:ha[sd]|have|had\s+not|not|never)\s+left|"
        # "left al-Omar", "left the base": not "the left side", "left behind"
        r"(?:left|leaving|departed|departing|exited|quit)(?=\s+(?:the\s+|its\s+|their\s+)?(?:(?:al-|el-|ash-|as-|at-)?(?-i:[A-Z])|"
        r"bases?\b|sites?\b|facilit|field|camp|outpost|airfield|airstrip|area))"
    ),
    "arrival": (
        r"convoys?|reinforc\w*|deliver(?:y|ies|ed|ing)?|arriv(?:e|ed|es|ing|al)|trucks?|lorries|shipments?|"
        r"supply\s+(?:runs?|lines?)|brought\s+in|sent\s+to|deploy(?:ed|ing|ment)?\s+(?:to|at)|entered|"
        r"reached|carrying|headed\s+(?:to|for)|flown\s+in(?:to)?|airlifted\s+(?:in|into|to)|rolled\s+in(?:to)?"
    ),
    "air_activity": (
        r"aircraft(?!\s+(?:shelters?|hangars?|parking))|(?:cargo|transport|military|warplanes?)\s+planes?|planes?|landed|landing|landings|"
        r"air-?drops?|helicopters?|flights?|sorties|C-17s?|C-130s?|Chinooks?|Black\s+Hawks?|air\s+traffic|"
        r"aerial\s+activity|airlift\w*|took\s+off|take-?offs?"
    ),
    "attack": (
        r"attack(?:s|ed|ing)?|strikes?|struck|shell(?:ed|ing)|rockets?|missiles?|bomb(?:s|ed|ing)|"
        r"targeted|explosions?|IEDs?|raid(?:s|ed)?|ambush\w*|drone\s+attacks?|mortars?|artillery|"
        r"under\s+(?:\w+\s+)?fire|fired\s+(?:at|on|upon)|hit\s+by"
    ),
    "presence": (
        r"stationed|based\s+(?:at|in)|host(?:s|ed|ing)|presence|deployed|garrison(?:ed)?|serves?\s+as|"
        r"functions?\s+as|hub|operat(?:es|ed|ing)\s+(?:from|out\s+of)|housing|houses|"
        r"remains?\s+(?:fully\s+)?(?:operational|active|manned|in\s+use)"
    ),
}
_TRIGGER_RE = re.compile(
    "|".join(f"(?P<{k}>\\b(?:{v})\\b)" for k, v in _TRIGGERS.items()),
    re.I,
)
# Words of movement: their direction ("from X" / "to X") decides the event at X.
_MOVEMENT = re.compile(
    r"^(?:withdr\w+|relocat\w*|redeploy\w*|transfer\w*|mov(?:e|ed|es|ing|ement)|shift\w*|pull\w*|"
    r"convoys?|trucks?|lorries|carrying|entered|reinforc\w*|deliver\w*|sent\s+to|headed\s+(?:to|for))$",
    re.I,
)
_MOVEMENT_EXTRA = re.compile(
    r"\b(?:relocat(?:e|ed|es|ing|ion)|redeploy(?:ed|ing|ment|s)?|transfer(?:s|red|ring)?|"
    r"mov(?:e|ed|es|ing|ement)|shift(?:ed|ing|s)?)\b",
    re.I,
)
_CAPABILITY = re.compile(
    r"\b(?:capable\s+of|able\s+to|designed\s+to|large\s+enough\s+to|can\s+(?:accommodate|handle|receive)|"
    r"could\s+(?:accommodate|handle|receive))\b[^,;.]*",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:reportedly|allegedly|alleged|purportedly|supposedly|apparently|possibly|probably|likely|"
    r"perhaps|may|might|could|appears?\s+to|appeared\s+to|seem(?:s|ed)?\s+to|unconfirmed|unverified|"
    r"rumou?r(?:s|ed)?|it\s+is\s+believed|is\s+said\s+to|are\s+said\s+to|according\s+to|"
    r"sources?\s+(?:said|say|told|claimed)|(?:pages|posts|accounts|activists|bloggers)\s+(?:said|say|claimed|reported|wrote)|claim(?:s|ed|ing)?(?!\s+(?:responsibility|credit))|"
    r"(?:has|have|had)\s+not\s+(?:been\s+)?officially\s+\w+|not\s+(?:been\s+)?officially\s+\w+|"
    r"no\s+official\s+(?:statement|confirmation|announcement)|intend(?:s|ed)?\s+to|plan(?:s|ned)?\s+to|"
    r"expected\s+to|set\s+to|will|would)\b",
    re.I,
)
_PLAN = re.compile(r"\b(?:intend|plan|expected|set\s+to|will|would)", re.I)
_ATTRIBUTION = re.compile(
    r"(?:reportedly|allegedly|purportedly|according\s+to|sources?\s+(?:said|say|told|claimed)|claim)", re.I
)
_DENIED_AFTER = re.compile(
    r"\b(?:(?:is|are|was|were|proved|proven|turned\s+out\s+(?:to\s+be\s+)?)\s+(?:false|untrue|baseless|unfounded|"
    r"incorrect|fake|wrong|fabricated|made\s+up|inaccurate|groundless|lies)|"
    r"(?:has|have|was|were)\s+(?:been\s+)?(?:denied|refuted|debunked)|"
    # "..., which the SDF denied", "..., a claim the coalition dismissed"
    r"(?:which|a\s+claim|claims?|reports?)\s+(?:that\s+)?(?:the\s+)?[\w\s.\-]{0,40}?"
    r"(?:denied|dismissed|refuted|rejected|debunked))\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:not|no(?!\s+(?:group|one|party|faction|organi[sz]ation)\b)|never|neither|nor|without|denied|deny|denies|denying|refuted|rejected|false|"
    r"didn't|hasn't|haven't|wasn't|weren't|isn't|aren't|no\s+sign\s+of|no\s+evidence\s+of|rather\s+than|"
    r"instead\s+of)\b",
    re.I,
)
_ANAPHOR = re.compile(
    r"\b(?:the|this|that|these|those|both)\s+(?:same\s+|two\s+|three\s+|former\s+|latter\s+)?"
    r"(?P<head>air\s*bases?|bases|base|sites|site|facility|facilities|airfield|airstrip|compound|camp|"
    r"garrison|installations?|outpost|location|field)\b",
    re.I,
)

_CAPTION = re.compile(
    r"\b(?:file\s+photo|photo(?:graph)?\s*(?:by|:)|image\s*:|pictured|\((?:AP|AFP|Reuters|Getty(?:\s+Images)?)\)|"
    r"(?:right|left|top|bottom)\s+image)\b|\((?:AP|AFP|Reuters)\)",
    re.I,
)
# ", after the base was evacuated": a clause with its own event (and its own date).
_CLAUSE_BREAK = re.compile(
    r"[;:—–]\s|,\s+(?=(?:after|before)\s+(?:the|a|an|its|their|US|U\.S\.|coalition|forces|troops)\b)|\s(?=(?:while|whereas|although|though|but|however|unlike|despite|even\s+as)\b)",
    re.I,
)
_CONTRAST = re.compile(r"^\W*(?:while|whereas|although|though|unlike|despite|even\s+as)\b", re.I)


_ELSEWHERE = re.compile(
    r"\b(?:in|from|across|into|throughout|within|inside)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west|central)\w*\s+)?[A-Z][a-z]+"
)


_COUNTRIES = re.compile(
    r"\b(?:in|from|across|into|throughout|to|inside)\s+(?:the\s+)?(?:(?:north|south|east|west|central)\w*\s+)?"
    r"(?:Syria|Iraq|Turkey|Jordan|Iran|Lebanon|Israel|Kuwait|Russia|the\s+region|the\s+country)\b",
    re.I,
)

# A place name, capitalised whatever the pattern's flags ("al-Hasakah", "Deir ez-Zor").
_NAME = (
    r"(?:(?:al|el|ar|as|ad|ez|az)[\-\s])?(?-i:[A-Z])[\w'’]+"
    r"(?:[\-\s](?:(?:al|el|ez|az|ad)[\-\s])?(?-i:[A-Z])[\w'’]+)?"
)
_COMPASS = r"(?:north|south|east|west|central|north-?east|north-?west|south-?east|south-?west)(?:ern)?"
_REGION = re.compile(
    rf"\b(?:(?:{_COMPASS}\s+)?rural\s+{_NAME}|(?:the\s+)?(?:{_COMPASS}\s+)?{_NAME}\s+"
    r"(?:countryside|province|governorate|desert|region|area|outskirts)|"
    rf"{_COMPASS}\s+(?:Syria|Iraq|Jordan|Anbar|{_NAME}\s+province)|"
    r"the\s+(?:province|countryside|governorate|desert)|"
    r"(?:the\s+)?(?:countryside|outskirts|desert)\s+of\s+" + _NAME + r")\b",
    re.I,
)

#: The English lexicon of the extractor.
ENGLISH = Lexicon(
    language="en",
    triggers=_TRIGGER_RE,
    movement=_MOVEMENT,
    movement_extra=_MOVEMENT_EXTRA,
    convoy_words=re.compile(r"^(?:convoy|truck|lorr|carrying|deliver|entered|sent|headed)", re.I),
    capability=_CAPABILITY,
    not_an_event_before={"presence": re.compile(r"\b(?:air|aerial)\s*$", re.I)},
    not_an_event_after=re.compile(r"^\s+(?:elsewhere|at\s+other\s+(?:bases|sites))\b", re.I),
    # "left X", "out of X": X is where the movement starts
    direction=re.compile(
        r"\b(from|to|toward|towards|into|out\s+of|left|departed|departing|leaving|exited)\b", re.I
    ),
    from_words=frozenset({"from", "out of", "left", "departed", "departing", "leaving", "exited"}),
    departure_words=frozenset({"left", "departed", "departing", "leaving", "exited"}),
    glued_to=frozenset(),
    hedge=_HEDGE,
    attribution=_ATTRIBUTION,
    plan=_PLAN,
    future_verb=re.compile(r"(?!x)x"),
    negation=_NEGATION,
    denied_before=re.compile(
        r"\b(?:denied|denies|deny|refuted|refutes|rejected|rejects|dismissed|dismisses|debunked)\b", re.I
    ),
    denied_after=_DENIED_AFTER,
    inner_negation=re.compile(r"\b(?:not|never)\b", re.I),
    clause_start=re.compile(r"[,;:]\s|\b(?:but|although|though|while|whereas)\b", re.I),
    clause_break=_CLAUSE_BREAK,
    contrast=_CONTRAST,
    anaphor=_ANAPHOR,
    plural_heads=frozenset({"bases", "sites", "facilities", "installations", "air bases", "airbases"}),
    names_its_place=re.compile(r"^\s*(?:near|at|in|of|outside|called|known\s+as|,)", re.I),
    caption=_CAPTION,
    elsewhere=_ELSEWHERE,
    countries=_COUNTRIES,
    plural_places=re.compile(
        r"\b(?:several|many|some|other|all|both|multiple|various|two|three)\s+(?:\w+\s+)?"
        r"(?:bases|sites|facilities|outposts|positions)\b",
        re.I,
    ),
    glosses={},
    denies_previous=re.compile(
        r"\b(?:denied|denies|deny|refuted|refutes|rejected|rejects|dismissed|dismisses|debunked|disputed|"
        r"contradicted)\s+(?:as\s+\w+\s+)?(?:this|it|these|those|"
        # "denied that" ends there; "denied that any troops had left" denies what follows
        r"that(?=\s*(?:[.,;:!?\"”)]|$))|"
        r"(?:the|such|these|those)\s+(?:\w+\s+)?(?:reports?|claims?|rumou?rs?|allegations?|accounts?|"
        r"stories|story|news|posts?))\b(?!\s+(?:that|of|about|on)\b)|"
        r"\b(?:called|described|branded)\s+(?:this|that|it|the\s+(?:reports?|claims?|rumou?rs?))\s+(?:as\s+)?"
        r"(?:false|untrue|baseless|unfounded|fabricated|incorrect|fake|lies)\b|"
        r"\b(?:this|that|it|the\s+(?:reports?|claims?|rumou?rs?))\s+(?:is|was|were|are|proved|turned\s+out)\s+"
        r"(?:to\s+be\s+)?(?:false|untrue|baseless|unfounded|fabricated|incorrect|fake)\b",
        re.I,
    ),
    region=_REGION,
    background=re.compile(
        r"\b(?:previously|formerly|originally|once\s+before|in\s+the\s+past|used\s+to|"
        # "was first set up in 2016"; "was first spotted on Monday" is news
        r"(?:was|were|had\s+been)\s+first\s+(?!(?:seen|spotted|reported|noticed|observed|detected|sighted)\b)\w+|"
        r"first\s+(?:set\s+up|established|built|opened|deployed|occupied|seized)|back\s+in\s+(?:19|20)\d\d|"
        r"dat(?:es|ing)\s+back\s+to)\b",
        re.I,
    ),
    past_perfect=re.compile(
        r"\bhad\s+(?:(?:not|never|already|earlier|also|once|first|previously|formerly|originally|long)\s+)*(?:been\s+\w+|\w+(?:ed|en|wn)|left|built|"
        r"begun|sent|brought|struck|hit|set\s+up|held|kept|shut|fought|lost)\b",
        re.I,
    ),
    reported=re.compile(
        r"\b(?:that|whether|if|said|says|say|told|reported|reports?|claimed|claims?|denied|denies|deny|"
        r"added|confirmed|announced|according\s+to|rumou?rs?|alleged|after|before|when|once|until|"
        r"by\s+the\s+time|since)\b",
        re.I,
    ),
    standing_since=re.compile(r"\bsince\s+(?:(?:early|mid|late)[\s-]+)?(?:19|20)\d\d\b", re.I),
    relative_clause=re.compile(r",\s*(?:which|who|where|whose)\b[^,;]*(?:,|$)", re.I),
    present_again=re.compile(r"\b(?:but|however|yet|now|whereas|while)\b|;\s", re.I),
    speech_before=re.compile(
        r"\b(?:said|says|told\s+(?:\w+\s+){0,2}?|reported|announced|added|stated|confirmed|denied|wrote|"
        r"posted|tweeted)\s*$",
        re.I,
    ),
    speech_after=re.compile(""),
    coordination=re.compile(r"(?:,\s*|\s)(?:and|then|and\s+then)\s", re.I),
    new_site=re.compile(
        r"\b(?:a|an|another)\s+(?:new\s+|second\s+|third\s+)?(?:\w+\s+){0,2}"
        r"(?:base|outpost|site|facility|position|airstrip|airfield|camp)\b",
        re.I,
    ),
)
