"""The post checks on real French posts with the real network limits (presets) and the real
dictionary: twenty blunders, each flagged (and blocked once spelling blocks too), and twenty
correct posts, none blocked and none flagged."""
from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.core.networks import load_network
from pipeline.post.checks import Finding, blocking, check_post, hashtag_words
from pipeline.post.handles import Handles, Vetted, lookalike, read_handles, skeleton
from pipeline.post.model import Post, load_limits

HANDLES = Handles(
    None,
    {"tiktok": "gendarmerienationale", "instagram-reels": "gendarmerienationale", "youtube-shorts": "gendarmerie",
     "facebook-reels": "gendarmerienationale", "snapchat": "gendarmerie"},
    (Vetted("prefet35", (), "Adj. Martin", "2026-11-02"), Vetted("SecuriteRoutiere", (), "Adj. Martin", "2026-11-02"),
     Vetted("police_nationale", ("instagram-reels",), "Cne Durand", "2026-10-15"),
     Vetted("SDIS35", (), "Cne Durand", "2026-10-15")),
    ("17", "112", "02 99 32 45 00", "0 800 00 17 17"),
    ("gendarmerie.interieur.gouv.fr", "masecurite.interieur.gouv.fr", "service-public.fr"),
)
GLOSSARY = ("Rennes", "Brocéliande", "Vitré", "Fougères", "Ille-et-Vilaine", "Cesson-Sévigné", "Bretagne")


def run(post: Post, spellcheck: str = "warn") -> list[Finding]:
    net = load_network(post.network)
    return check_post(post, net.title, load_limits(post.network), HANDLES, "fr", GLOSSARY, spellcheck)


def post(network="instagram-reels", **kw) -> Post:
    return replace(Post(network, episode_title="Appel à témoins", date="2026-12-05"), **kw)


BASE = "Appel à témoins : le {date}, un cycliste a été renversé avenue Janvier à Rennes. Le conducteur a pris la fuite."
MANY_TAGS = tuple(f"#{w}" for w in (
    "Gendarmerie", "Rennes", "Bretagne", "AppelÀTémoins", "SécuritéRoutière", "Vélo", "Cycliste", "Prudence",
    "Route", "Témoins", "Enquête", "Brigade", "Police", "Secours", "Urgence", "Solidarité", "Citoyens", "Prévention",
    "Vigilance", "Voiture", "Accident", "Justice", "Sécurité", "Information", "Alerte", "Quartier", "Ville", "Hiver",
    "Nuit", "Aide", "Appel"))

# (name, post, kinds that must be among the findings)
BLUNDERS = [
    ("misspelt word", post(text="Un cycliste a été renversé hier soir près de la gare ; le conducteur a pris la fuitte."),
     {"spelling"}),
    ("misspelt verb", post(text="Les gendarmes reccherchent des témoins de l'accident survenu à Vitré."), {"spelling"}),
    ("misspelt hashtag", post(text=BASE, hashtags=("#AppelÀTémoinns",)), {"spelling"}),
    ("misspelt accented hashtag", post(text=BASE, hashtags=("#SécuritéRoutièrre",)), {"spelling"}),
    ("unvetted mention", post(text=BASE + " Merci à @lequipe_rennes pour le relais."), {"mention"}),
    ("vetted for another network only", post("tiktok", text=BASE + " Avec @police_nationale."), {"mention"}),
    ("one letter off the unit", post("tiktok", text=BASE + " Suivez @gendarmerienationnale."), {"mention"}),
    ("Cyrillic look-alike of the unit", post(text=BASE + " Suivez @gendarmerienati\u043enale."), {"mention"}),
    ("rn for m in the unit's handle", post(text=BASE + " Suivez @gendarrnerienationale."), {"mention"}),
    ("wrong digit in the brigade's number", post(text=BASE, cta="Vous avez vu quelque chose ? Appelez la brigade au 02 99 32 45 01."),
     {"phone"}),
    ("wrong emergency number", post(text=BASE, cta="Vous avez vu quelque chose ? Appelez le 18."), {"phone"}),
    ("a digit missing", post(text=BASE, phone="02 99 32 45 0"), {"phone"}),
    ("look-alike domain", post(text=BASE, link="https://gendarmerie-interieur.fr/appel-a-temoins"), {"link"}),
    ("link shortener", post(text=BASE + " Plus d'informations : bit.ly/3xYzAb"), {"link"}),
    ("allowed domain used as a subdomain", post(text=BASE, link="https://gendarmerie.interieur.gouv.fr.securite-info.com"),
     {"link"}),
    ("31 hashtags on Instagram", post(text=BASE, hashtags=MANY_TAGS), {"limit"}),
    ("YouTube title over 100 characters",
     post("youtube-shorts", text=BASE, title="Appel à témoins : un cycliste renversé avenue Janvier à Rennes, le conducteur "
                                              "a pris la fuite sans s'arrêter"), {"limit"}),
    ("bidi override", post(text=BASE + "\nContact : \u202e71 el zeleppA"), {"character"}),
    ("zero-width space", post(text="Appel\u200b à témoins : un cycliste a été renversé à Rennes."), {"character"}),
    ("TikTok caption over 2200 UTF-16 units", post("tiktok", text=BASE + "\n" + "🚨 " * 740), {"limit"}),
]

GOOD = [
    post(text=BASE, hashtags=("#AppelÀTémoins", "#Rennes"), cta="Vous avez vu quelque chose ? Appelez le 17."),
    post(text="Hier soir, les gendarmes de Vitré ont interpellé deux individus après un cambriolage. Merci aux riverains "
              "pour leur vigilance !", hashtags=("#Gendarmerie", "#Cambriolage")),
    post("tiktok", text="Contrôle de vitesse sur la route de Fougères : 12 000 véhicules contrôlés cet été.",
         hashtags=("#SécuritéRoutière", "#Prudence")),
    post("youtube-shorts", text=BASE, title="Appel à témoins à Rennes : cycliste renversé", hashtags=("#Shorts",)),
    post(text="Une collision entre deux véhicules a fait trois blessés légers. Merci à @SDIS35 pour son intervention rapide.",
         hashtags=("#Secours",)),
    post(text="Réunion publique sur la prévention des escroqueries le {date} à la mairie de Cesson-Sévigné.",
         link="https://www.gendarmerie.interieur.gouv.fr/bretagne", hashtags=("#Prévention", "#Arnaques")),
    post(text="Faux conseillers bancaires : ne communiquez jamais vos codes par téléphone.",
         cta="Signalez toute tentative d'escroquerie.", link="masecurite.interieur.gouv.fr"),
    post(text="Disparition inquiétante : une adolescente de 15 ans n'a pas été revue depuis mardi soir.",
         cta="Toute information : appelez le 17 ou la brigade au 02 99 32 45 00.", hashtags=("#AppelÀTémoins",)),
    post(text="Numéro vert pour les victimes : 0 800 00 17 17, anonyme et gratuit.", hashtags=("#Victimes",)),
    post(text="En cas d'urgence, composez le 112 depuis n'importe quel pays de l'Union européenne."),
    post("tiktok", text="Nos gendarmes à moto sur les routes de Brocéliande 🏍️🌲 Soyez prudents ce week-end !",
         hashtags=("#Gendarmerie", "#Moto")),
    post(text="« Ralentissez à l'approche des écoles » : l'opération de rentrée commence lundi.",
         hashtags=("#Rentrée", "#Sécurité")),
    post(text="Retrouvez toutes nos actualités en Ille-et-Vilaine. Suivez @gendarmerienationale et @prefet35.",
         hashtags=("#IlleEtVilaine",)),
    post(text=BASE, hashtags=MANY_TAGS[:30]),
    post("youtube-shorts", text=BASE, title="A" * 100),
    post(text="Opération de contrôle avec nos partenaires de @police_nationale et de @SecuriteRoutiere ce samedi.",
         hashtags=("#ContrôleRoutier",)),
    post(text="Démarches en ligne : pré-plainte, signalements et conseils sur service-public.fr.",
         hashtags=("#ServicePublic",)),
    post("facebook-reels", text="Les gendarmes ont porté secours à un randonneur égaré en forêt de Brocéliande. "
                                "Il a été retrouvé sain et sauf vers 23 h.", hashtags=("#Secours", "#Randonnée")),
    post("snapchat", text="Une journée avec la brigade motorisée de Rennes 👮", hashtags=("#Gendarmerie",)),
    post(text="Vol de vélos : gravez votre vélo et déclarez-le. Les gendarmes vous accompagnent.",
         hashtags=("#securiteroutiere", "#velo")),
]


@pytest.mark.parametrize("name, blunder, kinds", BLUNDERS, ids=[b[0] for b in BLUNDERS])
def test_every_blunder_is_flagged(name, blunder, kinds):
    found = run(blunder)
    assert kinds <= {f.kind for f in found}, (name, [str(f) for f in found])
    assert blocking(run(blunder, spellcheck="block")), name      # spelling blocks when asked, the rest always


def test_twenty_blunders():
    assert len(BLUNDERS) == 20 and len(GOOD) == 20


@pytest.mark.parametrize("good", GOOD, ids=[f"good-{n}" for n in range(len(GOOD))])
def test_correct_posts_pass(good):
    found = run(good, spellcheck="block")
    assert not found, [str(f) for f in found]


def test_findings_name_the_line():
    found = run(post(text="Première ligne sans souci.\nDeuxième ligne \u202e avec un piège."))
    assert [(f.kind, f.line) for f in found] == [("character", "2")]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in str(found[0]) and str(found[0]).startswith("line 2:")
    found = run(post("youtube-shorts", text=BASE, title="Appel <urgent> à témoins"))
    assert {(f.kind, f.line) for f in found} == {("character", "title")}


def test_limits_count_in_each_networks_unit():
    emoji = "🚨" * 1300                         # 1300 characters, 2600 UTF-16 units, 5200 bytes
    assert not [f for f in run(post("instagram-reels", text=emoji)) if f.kind == "limit"]   # 2200 characters
    assert [f for f in run(post("tiktok", text=emoji)) if f.kind == "limit"]                 # 2200 UTF-16 units
    assert [f for f in run(post("youtube-shorts", text=emoji, title="Titre")) if f.kind == "limit"]   # 5000 bytes
    assert not [f for f in run(post("youtube-shorts", text="🚨" * 1200, title="Titre")) if f.kind == "limit"]
    assert load_limits("youtube-shorts").measure(emoji) == 5200 and load_limits("tiktok").measure(emoji) == 2600


def test_a_capitalised_typo_mid_sentence_is_flagged_never_blocked():
    found = run(post(text="Merci à la Gendarmrie nationale et à M. Dupont."), spellcheck="block")
    assert [(f.kind, f.severity) for f in found] == [("spelling", "warn")] and "'gendarmerie'" in found[0].message


def test_a_hashtag_with_accents_must_have_them_all():
    assert not run(post(text=BASE, hashtags=("#SecuriteRoutiere", "#AppelATemoins")))        # none: a choice
    found = run(post(text=BASE, hashtags=("#SécuritéRoutiere",)))
    assert [f.kind for f in found] == ["spelling"] and "Routiere" in found[0].message


def test_hashtags_split_into_words():
    assert hashtag_words("AppelÀTémoins") == ["Appel", "À", "Témoins"]
    assert hashtag_words("JO2024") == ["JO", "2024"]
    assert hashtag_words("SOSVictimes") == ["SOS", "Victimes"]


def test_lookalikes_of_the_units_handle():
    own = "gendarmerie"
    assert lookalike("Gendarmerie", own) is None and lookalike("prefet35", own) is None
    assert "CYRILLIC SMALL LETTER IE" in lookalike("gendarm\u0435rie", own)
    assert lookalike("gendarrnerie", own) and lookalike("gendarmer1e", own) and lookalike("gendarmeire", own)
    assert skeleton("GENDARMERIE") == skeleton("gendarmerie")


def test_own_handle_near_miss_blocks_even_when_vetted():
    handles = replace(HANDLES, vetted=HANDLES.vetted + (Vetted("gendarmerienationa1e", (), "X", "2026-01-01"),))
    found = check_post(post(text=BASE + " @gendarmerienationa1e"), "Instagram Reels", load_limits("instagram-reels"),
                       handles, "fr", GLOSSARY)
    assert [f.kind for f in blocking(found)] == ["mention"]


def test_handles_file_is_validated(tmp_path):
    (tmp_path / "handles.toml").write_text('[[handle]]\nhandle = "@prefet35"\nnetwork = "all"\n', "utf-8")
    with pytest.raises(Exception, match="vetted_by"):
        read_handles(tmp_path, ("tiktok",))
    (tmp_path / "handles.toml").write_text(
        '[unit]\ntiktok = "@gendarmerie"\n[contacts]\nphones = ["02 99 32 45 00"]\ndomains = ["gendarmerie.interieur.gouv.fr"]\n'
        '[[handle]]\nhandle = "@prefet35"\nnetwork = "tiktok"\nvetted_by = "Adj. Martin"\nvetted_on = 2026-11-02\n', "utf-8")
    h = read_handles(tmp_path, ("tiktok", "snapchat"))
    assert h.own("tiktok") == "gendarmerie" and h.find("@Prefet35", "tiktok") and not h.find("prefet35", "snapchat")
    assert h.phones == ("17", "112", "02 99 32 45 00") and h.vetted[0].vetted_on == "2026-11-02"
