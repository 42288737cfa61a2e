"""Phone numbers and links in a text, against the campaign's allowed list (``handles.toml [contacts]``).

Numbers are found with ``phonenumbers`` (Apache-2.0, Google's libphonenumber data; French numbering
plan by default): "01 23 45 67 89", "+33 1 23 45 67 89" and "0 800 00 17 17" are one number,
compared in E.164 form. A run of eight or more digits that is no valid number is reported too (a
digit dropped or added). Short numbers (17, 112, 3624) are phone numbers only after a word that
asks to call ("appelez le 17", "composez le 112", "au 17", "☎ 17"), never in a date or a count.
Links are ``http(s)://`` addresses, ``www.`` names, e-mail domains and bare domains under a common
top-level domain; a link's host must be an allowed domain or one of its subdomains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from rapidfuzz.distance import Hamming

REGION = "FR"
_CALL = re.compile(r"(?:appel\w*|compos\w*|contact\w*|joind\w*|t[ée]l[ée]phon\w*|t[ée]l\.?|num[ée]ro|n°|sms"
                   r"|urgence\w*|☎️?|📞|call|dial)\s*(?::|au|le|la|l'|du|de|:)?\s*(?:le|au)?\s*$", re.I)
_SHORT = re.compile(r"(?<![\w+])(\d{2,4})(?![\w/:,.]\d|\s?(?:h|€|%|km|ans|\d))")
_LONG = re.compile(r"(?<![\w,.])(?:\+|0)\d?(?:[\s.\-\u00a0\u202f]?\d){7,}")   # 0... or +...: phone-shaped
_DATE = re.compile(r"^\d{2}[.\-]\d{2}[.\-]\d{4}$")
_JOINED = re.compile(r"^\s*(?:ou|et|,|/)\s*(?:le|au|l'|par le)?\s*$", re.I)   # "appelez le 17 ou le 112"
# common top-level domains, written in lower case (a bare "name.fr" is a link; "M.Dupont", "etc.Le" or
# "la route.De plus" are not; TLDs that are French words, de es it re me, only count after www. or a scheme)
TLDS = ("fr", "com", "org", "net", "eu", "info", "io", "be", "ch", "lu", "gp", "mq", "gf", "yt", "nc", "pf",
        "pm", "wf", "tf", "tv", "ly", "co", "app", "gov", "uk", "xyz", "site", "online", "link", "live", "gouv")
LINK = re.compile(r"(?i:\bhttps?://[^\s<>\"«»]+|\bwww\.[^\s<>\"«»]+)|"
                  r"(?<![\w@.\-])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+(?:" + "|".join(TLDS) + r")\b"
                  r"(?:/[^\s<>\"«»]*)?|(?<=\w@)(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24}\b")


@dataclass(frozen=True)
class Contact:
    kind: str          # phone | link
    text: str          # as written
    value: str         # E.164 number, short number, or host
    line: int          # 1-based line of the text


def e164(number: str) -> str | None:
    """``number`` in E.164 form, or its digits for a short number; None when it is no number."""
    digits = re.sub(r"\D", "", number)
    if 2 <= len(digits) <= 4 and not number.strip().startswith("+"):
        return digits
    try:
        parsed = phonenumbers.parse(number, REGION)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def find_phones(text: str) -> list[Contact]:
    out: list[Contact] = []
    for n, line in enumerate(text.splitlines(), 1):
        taken: list[tuple[int, int]] = []
        for m in phonenumbers.PhoneNumberMatcher(line, REGION, leniency=phonenumbers.Leniency.VALID):
            out.append(Contact("phone", m.raw_string, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164), n))
            taken.append((m.start, m.end))
        for m in _LONG.finditer(line):       # eight digits or more that are no valid number
            if not any(a <= m.start() < b for a, b in taken) and not _DATE.match(m.group(0)):
                out.append(Contact("phone", m.group(0), "invalid:" + re.sub(r"\D", "", m.group(0)), n))
                taken.append((m.start(), m.end()))
        for m in _SHORT.finditer(line):
            if any(a <= m.start() < b for a, b in taken):
                continue
            last = max((b for a, b in taken if b <= m.start()), default=None)
            if _CALL.search(line[:m.start()]) or (last is not None and _JOINED.match(line[last:m.start()])):
                out.append(Contact("phone", m.group(1), m.group(1), n))
                taken.append((m.start(), m.end()))
    return out


def host_of(link: str) -> str:
    host = re.sub(r"(?i)^https?://", "", link).split("/")[0].split("?")[0].split("#")[0]
    host = host.rsplit("@", 1)[-1].split(":")[0]
    return host.rstrip(".,;:!?)»").lower()


def find_links(text: str) -> list[Contact]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in LINK.finditer(line):
            raw = m.group(0).rstrip(".,;:!?)»")
            out.append(Contact("link", raw, host_of(raw), n))
    return out


def domain_allowed(host: str, domains: tuple[str, ...]) -> bool:
    host = host.lower().removeprefix("www.")
    for d in domains:
        d = host_of(d).removeprefix("www.")
        if host == d or host.endswith("." + d):
            return True
    return False


def phone_allowed(value: str, phones: tuple[str, ...]) -> bool:
    return value in {e164(p) for p in phones}


def nearest_phone(value: str, phones: tuple[str, ...]) -> str | None:
    """The allowed number ``value`` is one digit off from (a typo in a witness appeal), if any."""
    for p in phones:
        allowed = e164(p)
        if allowed and len(allowed) == len(value) and Hamming.distance(allowed, value) == 1:
            return p
    return None


def check_contacts(text: str, phones: tuple[str, ...], domains: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, problem) for every number and link in ``text`` that the allowed list does not hold."""
    out = []
    for c in find_phones(text):
        if c.value.startswith("invalid:"):
            out.append((c.line, f"'{c.text}' looks like a phone number but is not a valid one (a digit missing "
                                 "or added?)"))
        elif not phone_allowed(c.value, phones):
            near = nearest_phone(c.value, phones)
            hint = f" (one digit off the allowed {near})" if near else ""
            out.append((c.line, f"phone number '{c.text}' is not in the campaign's allowed list{hint}"))
    for c in find_links(text):
        if not domain_allowed(c.value, domains):
            out.append((c.line, f"link '{c.text}' goes to {c.value}, which is not one of the campaign's domains"))
    return out
