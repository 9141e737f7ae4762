"""Denials and doubts in every form: reported speech, the sentence after, questions; never happening."""

import pytest

from sitewatch.reports.extract import extract_text_claims
from sitewatch.reports.text import ReportText


def claims_of(text, published="2025-03-10"):
    report = ReportText(
        text=text,
        path="statement.txt",
        encoding="utf-8",
        kind="text",
        truncated=False,
        title=None,
        meta={"file": "statement.txt", "published": published},
    )
    return extract_text_claims(report)


DENIED = [
    # reported speech
    (
        "al-omar",
        "withdrawal",
        "A spokesman said reports that U.S. forces had withdrawn from the Omar oil field were false.",
    ),
    (
        "qasrak",
        "construction",
        "The ministry said claims that the US built a new base near Qasrak were fabricated.",
    ),
    ("rmelan", "withdrawal", "The ministry denied that coalition troops had left Rmelan."),
    ("rmelan", "withdrawal", "The SDF denied reports of a U.S. withdrawal from Rmelan base."),
    (
        "green-village",
        "withdrawal",
        "Officials rejected as untrue reports that troops abandoned Green Village.",
    ),
    (
        "conoco",
        "withdrawal",
        "Activists said U.S. forces had evacuated Conoco, which the coalition denied on Monday.",
    ),
    # the denial in the next sentence, or the next paragraph, refers back
    (
        "al-shaddadi",
        "withdrawal",
        "Local pages claimed on Monday that U.S. forces had evacuated al-Shaddadi. The SDF denied this.",
    ),
    (
        "al-shaddadi",
        "withdrawal",
        "Social media accounts claimed that U.S. forces had evacuated al-Shaddadi base.\n\n"
        "The coalition dismissed the reports as baseless.",
    ),
    (
        "al-omar",
        "withdrawal",
        "U.S. forces withdrew from al-Omar on Sunday, a blogger wrote. That turned out to be false.",
    ),
    # negation
    ("conoco", "withdrawal", "U.S. forces did not withdraw from Conoco, a coalition official said."),
    ("conoco", "withdrawal", "Conoco has not been evacuated, the official said."),
    ("qasrak", "construction", "There was no sign of new construction at Qasrak in imagery from March."),
    (
        "green-village",
        "withdrawal",
        "The coalition has no plans to withdraw from Green Village, a spokesman said.",
    ),
    ("al-omar", "withdrawal", "Contrary to reports, U.S. forces remain at al-Omar and have not withdrawn."),
    # Arabic
    (
        "rmelan",
        "withdrawal",
        "لا صحة لما تداولته صفحات التواصل الاجتماعي عن انسحاب القوات الأمريكية من قاعدة رميلان.",
    ),
    (
        "rmelan",
        "withdrawal",
        "نفت قوات سوريا الديمقراطية الأنباء عن انسحاب القوات الأمريكية من قاعدة رميلان.",
    ),
    (
        "al-shaddadi",
        "withdrawal",
        "تداولت صفحات محلية أنباء عن انسحاب القوات الأمريكية من قاعدة الشدادي. ونفى التحالف ذلك.",
    ),
    (
        "al-shaddadi",
        "withdrawal",
        "زعمت صفحات محلية أن القوات الأمريكية أخلت قاعدة الشدادي، وهو ما نفاه التحالف الدولي.",
    ),
    ("conoco", "withdrawal", "لم تنسحب القوات الأمريكية من حقل كونيكو."),
    ("al-omar", "withdrawal", "الأنباء عن انسحاب القوات من حقل العمر عارية عن الصحة."),
    ("al-omar", "withdrawal", "وكذّب مصدر عسكري الأنباء المتداولة حول إخلاء قاعدة حقل العمر."),
]


@pytest.mark.parametrize(("site", "event", "text"), DENIED)
def test_a_denied_event_is_never_reported_as_happening(site, event, text):
    found = [c for c in claims_of(text) if (c.site, c.event) == (site, event)]
    assert found, text
    assert all(c.negated for c in found), [(c.negated, c.hedged, c.cues) for c in found]


@pytest.mark.parametrize(
    ("site", "event", "text"),
    [
        ("al-omar", "withdrawal", "Rumours of a pullout from al-Omar spread on Monday."),
        ("al-omar", "withdrawal", "Is the US pulling out of al-Omar?"),
        ("al-omar", "withdrawal", "هل تنسحب القوات الأمريكية من حقل العمر؟"),
        (
            "al-shaddadi",
            "withdrawal",
            "Local pages said U.S. forces had evacuated al-Shaddadi. The SDF did not deny the reports.",
        ),
        ("al-shaddadi", "withdrawal", "قالت صفحات محلية إن القوات أخلت قاعدة الشدادي. ولم ينف التحالف ذلك."),
    ],
)
def test_rumours_questions_and_undenied_hearsay_are_doubted(site, event, text):
    found = [c for c in claims_of(text) if (c.site, c.event) == (site, event)]
    assert found and all(c.hedged and not c.negated for c in found), [(c.negated, c.cues) for c in found]


@pytest.mark.parametrize(
    "text",
    [
        "U.S. forces evacuated al-Shaddadi on Sunday. Residents called it a major change.",
        "U.S. forces evacuated al-Shaddadi on Sunday. The SDF confirmed this.",
        "U.S. forces evacuated al-Shaddadi on Sunday.\n\n"
        "A week later, the SDF denied reports of new arrests in Hasakah.",
    ],
)
def test_what_is_not_a_denial_of_the_sentence_before(text):
    (c,) = [c for c in claims_of(text) if (c.site, c.event) == ("al-shaddadi", "withdrawal")]
    assert not c.negated and not c.hedged, c.cues


def test_no_one_claiming_an_attack_does_not_deny_it():
    (c,) = [
        c for c in claims_of("No group has claimed responsibility for the drone attack on Conoco on Monday.")
    ]
    assert (c.site, c.event, c.negated) == ("conoco", "attack", False)
