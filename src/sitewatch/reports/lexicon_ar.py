"""Arabic words of the claim extractor (Modern Standard Arabic, as the Syrian and regional press writes it).

Every pattern is written in ordinary Arabic and compiled on its folded form (see
:func:`~sitewatch.reports.language.fold_arabic`), and matches folded text: one pattern
covers "إخلاء", "اخلاء" and "إِخْلاء". Arabic glues conjunctions, prepositions and the
article to the word (و ف ب ل ك ال: "وبالقاعدة", "لقسرك"), and conjugates verbs with
prefixes and suffixes (انسحبت، تنسحب، انسحبوا), so each word is a stem with its clitics
before it and any ending after it. Words that are also something else are written so as to
miss it: "صباح" (morning) is not "صب" (pouring concrete), "سحب" (clouds) needs forces after
it, "بناءً على" (based on) is not building, "تبنّى" (claimed responsibility) is left out.
"""

from __future__ import annotations

import re

from sitewatch.reports.language import fold_arabic
from sitewatch.reports.word_lexicon import Lexicon

__all__ = ["ARABIC"]

# Clitics before a word: a conjunction, then a preposition and/or the article (ل + ال = لل).
_PRE = r"(?<![\w])(?:[وف])?(?:[بك]?ال|لل|[بلك])?"
_END = r"(?![\w])"


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(fold_arabic(pattern).text)


def _words(*stems: str) -> str:
    """Stems with their clitics before and any ending after."""
    return _PRE + "(?:" + "|".join(stems) + r")\w*"


_TRIGGERS = {
    "construction": _words(
        r"بناء(?!\s+على)",
        r"يبني",
        r"يبنون",
        r"تشييد",
        r"يشيد",
        r"تشيد",
        r"شيدت",
        r"إنشاء",
        r"إنشاءات",
        r"أنشأت",
        r"ينشئ",
        r"تنشئ",
        r"منشآت\s+جديدة",
        r"إقامة\s+(?:قاعدة|منشآت|مهبط|مقر|أبراج|سواتر|تحصينات)",
        r"توسيع",
        r"توسعة",
        r"توسع",
        r"وسعت",
        r"يوسع",
        r"توسّع",
        r"تسوية",
        r"تسويات",
        r"تعبيد",
        r"تجريف",
        r"جرافات",
        r"حفريات",
        r"تحصين",
        r"سواتر",
        r"ساتر\s+ترابي",
        r"أعمال\s+(?:هندسية|بناء|إنشائية|حفر)",
        r"مستودعات\s+جديدة",
        r"هنغارات",
        r"حظائر\s+(?:جديدة|للطائرات)",
        r"أبراج\s+(?:جديدة|مراقبة)",
        r"تأهيل",
        r"ترميم",
        r"تمديد\s+(?:ال)?(?:مهبط|مدرج)",
        r"إسمنت",
        r"اسمنتية",
        r"خرسان",
        r"باطون",
        r"آليات\s+(?:ثقيلة|هندسية)",
        r"معدات\s+(?:هندسية|ثقيلة)",
        r"رفع\s+سواتر",
    )
    + "|"
    + _PRE
    + r"(?:صب|صبت|يصب|تصب)"
    + _END,
    "withdrawal": _words(
        r"انسحاب",
        r"انسحب",
        r"[يت]نسحب",
        r"إخلاء",
        r"أخلت",
        r"أخلى",
        r"[يت]خلي",
        r"أخلوا",
        r"سحب(?=\s+(?:ال)?(?:قوات|جنود|معدات|عناصر|آليات))",
        r"سحبت",
        r"سحبوا",
        r"[يت]سحب",
        r"مغادرة",
        r"غادر",
        r"[يت]غادر",
        r"تفكيك",
        r"فككت",
        r"تسليم\s+(?:ال)?(?:قاعدة|موقع)",
        r"سلمت",
        r"إغلاق\s+(?:ال)?(?:قاعدة|موقع)",
        r"تقليص",
        r"خفض\s+(?:عدد|ال)",
        r"إفراغ",
        r"رحيل",
    ),
    "arrival": _words(
        r"رتل",
        r"أرتال",
        r"تعزيزات",
        r"تعزيز",
        r"شاحن",
        r"قافل",
        r"قوافل",
        r"وصل",
        r"[يت]صل",
        r"وصول",
        r"دخلت",
        r"دخل(?=\s)",
        r"دخلوا",
        r"[يت]دخل",
        r"دخول",
        r"إمدادات",
        r"شحنات",
        r"استقدام",
        r"استقدمت",
        r"إرسال",
        r"أرسلت",
        r"مدرعات",
        r"آليات\s+عسكرية",
        r"عربات\s+عسكرية",
    ),
    "air_activity": _words(
        r"طائر(?!\w*\s+(?:ال)?مسير)",
        r"هبوط",
        r"هبطت",
        r"هبط",
        r"[يت]هبط",
        r"إقلاع",
        r"أقلعت",
        r"مروحي",
        r"حوامات",
        r"رحلات\s+جوية",
        r"طلعات",
        r"نشاط\s+جوي",
        r"حركة\s+جوية",
        r"جسر\s+جوي",
        r"شحن\s+جوي",
    ),
    "attack": _words(
        r"استهداف",
        r"استهدف",
        r"[يت]ستهدف",
        r"هجوم",
        r"هجمات",
        r"هاجم",
        r"[يت]هاجم",
        r"قصف",
        r"[يت]قصف",
        r"ضربة",
        r"ضربات",
        r"غارة",
        r"غارات",
        r"صاروخ",
        r"صواريخ",
        r"قذائف",
        r"قذيفة",
        r"انفجار",
        r"عبوة\s+ناسفة",
        r"مسيرة",
        r"مسيرات",
        r"درون",
    ),
    "presence": _words(
        r"تمركز",
        r"متمركز",
        r"[يت]تمركز",
        r"وجود\s+(?:عسكري|أمريكي|أميركي|للقوات)",
        r"تواجد",
        r"[يت]تواجد",
        r"انتشار\s+(?:ال)?(?:قوات|عسكري)",
        r"مقر\s+(?:رئيسي|لقيادة)",
        r"مركز\s+(?:قيادة|لوجستي|إمداد)",
    ),
}
_TRIGGER_RE = _c("|".join(f"(?P<{k}>{v})" for k, v in _TRIGGERS.items()))
_MOVEMENT_STEMS = (
    r"انسحا|انسحب|[يت]نسحب|نقل|[يت]نقل|تحويل|إعادة\s+(?:انتشار|تموضع)|رتل|أرتال|شاحن|قافل|قوافل|اتجه|متجه|"
    r"قادم|خرج|[يت]خرج|خروج|سحب|[يت]سحب|دخل|[يت]دخل|دخول|إرسال|أرسل|تعزيز|توجه|متوجه"
)
_NEGATION_WORDS = (
    r"لم|لن|لا(?!\s+سيما)|ليس|ليست|ليسوا|عدم|دون|بدون|نفى|نفت|ينفي|تنفي|نفوا|كذب\w*|لا\s+صحة|لا\s+يوجد|"
    r"لا\s+توجد|لا\s+أثر|لا\s+دليل|رفض\w*"
)

#: The Arabic lexicon of the extractor (patterns on folded text).
ARABIC = Lexicon(
    language="ar",
    triggers=_TRIGGER_RE,
    movement=_c(r"^[وف]?(?:[بك]?ال|لل|[بلك])?(?:" + _MOVEMENT_STEMS + r")\w*$"),
    movement_extra=_c(
        r"(?<![\w])[وف]?(?:نقل\w*|[يت]نقل\w*|تحويل|إعادة\s+(?:انتشار|تموضع)|خرج\w*|[يت]خرج\w*|خروج|اتجه\w*|"
        r"متجه\w*|قادم\w*|توجه\w*|متوجه\w*)"
    ),
    convoy_words=_c(
        r"^[وف]?(?:[بك]?ال|لل|[بلك])?(?:رتل|أرتال|شاحن|قافل|قوافل|قادم|إمدادات|شحنات|تعزيز|دخل|دخول|وصل|إرسال)"
    ),
    capability=_c(
        r"(?<![\w])(?:قادر|قادرة)\s+على[^,;.]*|(?:تتسع|يتسع)\s+ل[^,;.]*|(?:مخصص|مصمم)\w*\s+ل[^,;.]*"
    ),
    not_an_event_before={
        # "مهبط الطائرات" is an airstrip, "حظائر الطائرات" hangars: neither is a flight.
        "air_activity": _c(r"(?:مهبط|مدرج|مدارج|حظائر|مطار|ممر|ممرات)\s*$"),
    },
    not_an_event_after=_c(r"^\s+(?:في\s+)?(?:أماكن|مناطق|قواعد)\s+أخرى"),
    direction=_c(r"(?<![\w])(من|عن|إلى|نحو|باتجاه|صوب|تجاه|عبر)(?![\w])"),
    from_words=frozenset({fold_arabic(w).text for w in ("من", "عن", "عبر")}),
    glued_to=frozenset({"ل", "ول", "فل"}),
    hedge=_c(
        r"(?<![\w])[وف]?(?:بحسب|حسب|وفق|وفقا|وفقاً|نقلا\s+عن|نقلاً\s+عن|أفادت|أفاد|ذكرت|ذكر|قالت\s+مصادر|"
        r"مصادر\s+(?:محلية|أمنية|إعلامية|خاصة|مطلعة|عسكرية|ميدانية|عراقية|كردية)|يعتقد|يُعتقد|يرجح|ترجح|رجحت|"
        r"ربما|يحتمل|محتمل|احتمال|من\s+المحتمل|من\s+المرجح|يبدو|مزاعم|مزعوم\w*|أنباء|تقارير|غير\s+مؤكد\w*|"
        r"لم\s+يتسن\s+التحقق|تداولت|متداول\w*|يشاع|شائعات|تعتزم|يعتزم|اعتزام|تنوي|ينوي|نية|تخطط|يخطط|خطط|خطة|"
        r"من\s+المقرر|من\s+المتوقع|يتوقع|متوقع|سوف|ستقوم|سيتم|تستعد|يستعد)(?![\w])"
    ),
    attribution=_c(r"(?:بحسب|حسب|وفق|نقلا\s+عن|أفادت|أفاد|ذكرت|ذكر|قالت|مصادر|أنباء|تقارير|تداولت|مزاعم)"),
    plan=_c(
        r"(?:تعتزم|يعتزم|اعتزام|تنوي|ينوي|نية|تخطط|يخطط|خطط|خطة|المقرر|المتوقع|يتوقع|متوقع|سوف|ستقوم|سيتم|تستعد|يستعد)"
    ),
    future_verb=_c(r"^[وف]?س[يتن]\w{3,}"),
    negation=_c(r"(?<![\w])[وف]?(?:" + _NEGATION_WORDS + r")(?![\w])"),
    denied_before=_c(r"(?<![\w])[وف]?(?:نفى|نفت|ينفي|تنفي|نفوا|كذب\w*|لا\s+صحة|دحض\w*|رفض\w*)(?![\w])"),
    denied_after=_c(
        r"(?:عار\w*\s+(?:من|عن)\s+الصحة|غير\s+صحيح\w*|لا\s+أساس\s+(?:لها|له)\s+من\s+الصحة|كاذب\w*|مفبرك\w*|"
        r"مجرد\s+شائعات|لا\s+صحة\s+له\w*)"
    ),
    inner_negation=re.compile(r"(?!x)x"),
    clause_start=_c(r"[,;:]\s|(?<![\w])[وف]?(?:لكن|بينما|في\s+حين|رغم|بالرغم|على\s+الرغم|إلا\s+أن)(?![\w])"),
    # "فيما" (while, meanwhile) starts a clause of its own, but of the same place: no contrast.
    clause_break=_c(
        r"[;:—–]\s|[,،]\s*(?=(?:بعد|قبل)\s)|\s(?=[وف]?(?:لكن|بينما|فيما|في\s+حين|رغم|بالرغم|على\s+الرغم|إلا\s+أن|في\s+المقابل)(?![\w]))"
    ),
    contrast=_c(r"^\W*[وف]?(?:بينما|في\s+حين|رغم|بالرغم|على\s+الرغم|مع\s+أن)(?![\w])"),
    anaphor=_c(
        r"(?<![\w])[وف]?[بلك]?(?:(?:هذه|تلك|هذا|ذلك)\s+)?(?P<head>(?:ال|ل)(?:قاعدتين|قاعدتان|قواعد|قاعدة|مواقع|"
        r"موقع|مطار|معسكر|منشآت|منشأة|حقل|معبر)|قاعدتها|قاعدته|قواعدها|قواعدهم)(?![\w])"
    ),
    plural_heads=frozenset(
        fold_arabic(h).text
        for h in (
            "القاعدتين",
            "القاعدتان",
            "القواعد",
            "المواقع",
            "المنشآت",
            "لقواعد",
            "لمواقع",
            "قواعدها",
            "قواعدهم",
            "لمنشآت",
        )
    ),
    names_its_place=_c(r"^\s*(?:في|ب|قرب|بالقرب\s+من|شمال|جنوب|شرق|غرب|المعروفة\s+ب|المسماة|,|،)"),
    caption=_c(
        r"(?:(?<![\w])(?:صورة|الصورة|صور)\s*(?:أرشيفية|:)|أرشيفية|\((?:رويترز|أ\s*ف\s*ب|فرانس\s+برس|الأناضول)\))"
    ),
    elsewhere=_c(
        r"(?<![\w])[وف]?(?:في|من|إلى|عبر|داخل|نحو)\s+(?:ال)?(?:أراضي\s+)?(?:سوريا|سورية|العراق|العراقية|السورية|تركيا|"
        r"الأردن|إيران|لبنان|محافظة\s+\w+|ريف\s+\w+(?:\s+\w+)?|مدينة\s+\w+|بلدة\s+\w+|الحسكة|دير\s+الزور|القامشلي|"
        r"الأنبار|بغداد|الرقة|الشرق\s+السوري)"
    ),
    countries=_c(
        r"(?<![\w])[وف]?(?:في|من|إلى|عبر|داخل|نحو)\s+(?:ال)?(?:أراضي\s+)?(?:سوريا|سورية|العراق|العراقية|السورية|"
        r"تركيا|الأردن|إيران|لبنان|المنطقة)(?![\w])"
    ),
    plural_places=_c(r"(?<![\w])[وف]?(?:[بلك]|ال|بال|لل)?(?:قواعد|مواقع|نقاط|منشآت)(?![\w])"),
    glosses={
        fold_arabic(k).text: v
        for k, v in {
            "أرتال": "convoys",
            "رتل": "convoy",
            "تعزيز": "reinforcements",
            "شاحن": "trucks",
            "قوافل": "convoys",
            "قافل": "convoy",
            "وصول": "arrival",
            "وصل": "arrived",
            "صل": "arrives",
            "دخول": "entry",
            "دخل": "entered",
            "إمدادات": "supplies",
            "شحنات": "shipments",
            "مدرعات": "armoured vehicles",
            "انسحاب": "withdrawal",
            "انسحب": "withdrew",
            "نسحب": "withdraws",
            "إخلاء": "evacuation",
            "أخل": "evacuated",
            "خلي": "evacuates",
            "سحب": "pulled out",
            "مغادرة": "departure",
            "غادر": "left",
            "تفكيك": "dismantling",
            "تسليم": "handover",
            "إغلاق": "closure",
            "تقليص": "drawdown",
            "تسوية": "levelling works",
            "تسويات": "levelling works",
            "صب": "pouring concrete",
            "إسمنت": "concrete",
            "اسمنتية": "concrete",
            "خرسان": "concrete",
            "تعبيد": "paving",
            "تجريف": "bulldozing",
            "جرافات": "bulldozers",
            "توسيع": "expansion",
            "توسعة": "expansion",
            "توسع": "expansion",
            "بناء": "building",
            "يبني": "builds",
            "تشييد": "construction",
            "إنشاء": "construction",
            "منشآت": "facilities",
            "مستودعات": "warehouses",
            "هنغارات": "hangars",
            "تحصين": "fortification",
            "سواتر": "earth berms",
            "تمديد": "extension",
            "تأهيل": "rehabilitation",
            "هبوط": "landing",
            "هبط": "landed",
            "طائر": "aircraft",
            "مروحي": "helicopters",
            "إقلاع": "take-off",
            "طلعات": "sorties",
            "استهداف": "strike",
            "استهدف": "targeted",
            "هجوم": "attack",
            "هجمات": "attacks",
            "قصف": "shelling",
            "غارات": "air strikes",
            "غارة": "air strike",
            "صواريخ": "rockets",
            "صاروخ": "rocket",
            "قذائف": "shells",
            "مسير": "drone",
            "انفجار": "explosion",
            "تمركز": "stationed",
            "تواجد": "presence",
            "وجود": "presence",
            "نقل": "transfer",
            "خرج": "left",
            "متجه": "headed",
            "اتجه": "headed",
            "قادم": "coming",
        }.items()
    },
)
