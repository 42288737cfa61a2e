from pipeline.captions.typography import NNBSP, apply, french


def test_narrow_space_before_high_punctuation():
    assert french("Vraiment ? Oui ! Attention : stop ; fin") == \
        f"Vraiment{NNBSP}? Oui{NNBSP}! Attention{NNBSP}: stop{NNBSP}; fin"


def test_missing_or_wrong_space_is_fixed():
    assert french("Vraiment?!") == f"Vraiment{NNBSP}?!"
    assert french("a\u00a0; b") == f"a{NNBSP}; b"


def test_guillemets():
    assert french("«Bonjour»") == f"«{NNBSP}Bonjour{NNBSP}»"
    assert french("« Bonjour »") == f"«{NNBSP}Bonjour{NNBSP}»"


def test_times_and_urls_untouched():
    assert french("À 12:30 sur https://police.fr") == "À 12:30 sur https://police.fr"


def test_idempotent():
    for text in ["Quoi ? Non !", "« Allô ? »", "Note : 12:30 ; ok", "Vraiment?!", "?"]:
        once = french(text)
        assert french(once) == once


def test_only_french():
    assert apply("Really ?", "en") == "Really ?"
    assert apply("Vraiment ?", "fr-CA") == f"Vraiment{NNBSP}?"
    assert apply("Vraiment ?", None) == "Vraiment ?"
