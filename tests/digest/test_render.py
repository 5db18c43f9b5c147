"""Rendering: a multipart/alternative mail in the enterprise's language, escaped HTML, babel formats,
the headers a mail client needs, and golden files of the whole text and HTML parts."""

from __future__ import annotations

import email
import os
import shutil
from dataclasses import replace
from email import policy
from pathlib import Path

import pytest

from watcher.digest.build import build_digest
from watcher.digest.render import Renderer, money
from watcher.errors import ConfigError

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "digest"
HELP = "Pour modifier votre profil, écrivez à votre coordonnateur régional."
HOSTILE = "<script>alert(1)</script> & Cie"


def parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_two_alternatives_text_first_both_utf8(renderer, coop_digest, seao):
    msg = renderer.render(coop_digest, seao.sender)
    # multipart/mixed: the two alternatives, then the closing dates as an .ics attachment
    assert msg.get_content_type() == "multipart/mixed"
    body, calendar = list(msg.iter_parts())
    assert body.get_content_type() == "multipart/alternative" and calendar.get_content_type() == "text/calendar"
    kinds = [p.get_content_type() for p in body.iter_parts()]
    assert kinds == ["text/plain", "text/html"]  # clients show the last one they can: HTML
    assert all(p.get_content_charset() == "utf-8" for p in body.iter_parts())
    # What goes on the wire is 7-bit (quoted-printable) and parses back to the same accents.
    wire = bytes(msg)
    assert wire.isascii()
    again = email.message_from_bytes(wire, policy=policy.default)
    assert "Référence" in again.get_body(("plain",)).get_content()


def test_french_headers(renderer, coop_digest, seao):
    msg = renderer.render(coop_digest, seao.sender, reply_to="coordination@example.org")
    assert msg["Subject"] == ("Veille des marchés publics — 4 occasions pour Coop de solidarité Entretien Horizon "
                              "(semaine du 18 novembre 2019)")
    assert msg["To"] == "soumissions@example.org, direction@example.org"
    assert msg["From"] == seao.sender and msg["Reply-To"] == "coordination@example.org"
    assert msg["Date"] == "Mon, 18 Nov 2019 12:00:00 +0000"
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg["Content-Language"] == "fr"


def test_list_unsubscribe_is_one_mailto_to_the_sender(renderer, coop_digest, seao):
    msg = renderer.render(coop_digest, seao.sender)
    expected = "<mailto:veille@example.org?subject=d%C3%A9sabonnement%20coop-entretien-horizon>"
    assert msg["List-Unsubscribe"] == expected
    assert f"List-Unsubscribe: {expected}\n" in bytes(msg).decode("ascii")  # not folded, not encoded
    assert "List-Unsubscribe-Post" not in msg


def test_english_digest(renderer, seao):
    digest = build_digest(replace(seao.coop, language="en"), seao.pairs, seao.now, 25)
    msg = renderer.render(digest, seao.sender)
    text, html = parts(msg)
    assert msg["Subject"] == ("Public procurement watch — 4 opportunities for Coop de solidarité Entretien Horizon "
                              "(week of November 18, 2019)")
    assert "Buyer: Ville de Brossard" in text and "Value: $370,833" in text
    assert "Value: value unknown" in text and "Method: mutual agreement" in text
    assert "Closing: Feb 21, 2019 11:00 a.m." in text
    assert "$370,833 is above your capacity ($250,000)" in text  # the reasons, in English
    assert '<html lang="en">' in html and "Relevance" in html


def test_french_content_with_babel_formats_and_names(renderer, coop_digest, seao):
    text, html = parts(renderer.render(coop_digest, seao.sender, profile_help=HELP))
    assert "Valeur\u00a0: 370\u00a0833\u00a0$" in text  # fr_CA: narrow spacing, $ after
    assert "Valeur\u00a0: valeur inconnue" in text
    assert "Fermeture\u00a0: 21 févr. 2019 11 h 00" in text
    assert "Fermeture\u00a0: aucune date indiquée" in text  # gré à gré
    assert "Régions\u00a0: Montérégie" in text and "Mode\u00a0: appel d'offres public" in text
    assert "S9 – Entretien, réparation" in text
    assert "Pertinence\u00a0: 55\u00a0% (possible en consortium)" in text
    assert "⚠ 370 833 $ dépasse votre capacité (250 000 $)" in text  # a failed criterion is flagged
    assert HELP in text and "profil « coop-entretien-horizon »" in text
    assert f'<a href="{seao.brossard.url}"' in html and "Ville de Brossard" in html


def test_money_formats():
    assert money(125000, "fr_CA") == "125\u00a0000\u00a0$"
    assert money(125000, "en_CA") == "$125,000"
    assert money(370832.73, "fr_CA") == "370\u00a0833\u00a0$"


def test_unknown_language_falls_back_to_french(renderer, coop_digest, seao):
    msg = renderer.render(replace(coop_digest, language="es"), seao.sender)
    assert msg["Subject"].startswith("Veille des marchés publics")


def test_hostile_title_is_escaped_in_html_and_readable_in_text(renderer, seao):
    notice = replace(seao.brossard, title=HOSTILE, buyer_name='Ville "Laval" <b>', url="javascript:alert(1)")
    digest = build_digest(seao.coop, [(notice, seao.match(notice, 0.8, "realistic"))], seao.now, 25)
    msg = renderer.render(digest, seao.sender)
    text, html = parts(msg)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in html
    assert "<script" not in html and "<b>" not in html and "javascript:" not in html
    assert "Ville &#34;Laval&#34; &lt;b&gt;" in html
    assert f"1. {HOSTILE}\n" in text  # plain text is not HTML: shown as the buyer wrote it
    assert msg["Subject"].startswith("Veille des marchés publics — 1 occasion pour")


def test_hostile_enterprise_name_cannot_inject_headers_or_html(renderer, seao):
    ent = replace(seao.coop, name="Coop <i>X</i>\nBcc: victim@example.org")
    digest = build_digest(ent, seao.pairs, seao.now, 25)
    msg = renderer.render(digest, seao.sender)
    assert "Bcc" not in msg and "\n" not in msg["Subject"]
    assert "Coop &lt;i&gt;X&lt;/i&gt;" in parts(msg)[1]


def test_omitted_matches_are_announced(renderer, seao):
    digest = build_digest(seao.coop, seao.pairs, seao.now, max_items=1)
    text, html = parts(renderer.render(digest, seao.sender))
    assert "3 autres occasions vous seront présentées dans le prochain envoi." in text
    assert "3 autres occasions" in html


def test_html_is_mail_client_safe(renderer, coop_digest, seao):
    html = parts(renderer.render(coop_digest, seao.sender))[1]
    assert "max-width:640px" in html and 'name="viewport"' in html
    for forbidden in ("<style", "<script", "<img", "<link", "class="):
        assert forbidden not in html


def test_missing_template_or_string_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="digest.txt.j2"):
        Renderer(tmp_path)
    source = Path(__file__).resolve().parents[2] / "templates"
    for f in source.glob("digest.*"):
        shutil.copy(f, tmp_path / f.name)
    english = tmp_path / "digest.en.toml"
    english.write_text(english.read_text(encoding="utf-8").replace('heading = "Public procurement watch"\n', ""),
                       encoding="utf-8")
    with pytest.raises(ConfigError, match="keys differ.*heading"):
        Renderer(tmp_path)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_golden(renderer, seao, language):
    """The whole text and HTML parts. Regenerate with WATCHER_REGEN_GOLDEN=1 and review the diff."""
    digest = build_digest(replace(seao.coop, language=language), seao.pairs, seao.now, max_items=3)
    msg = renderer.render(digest, seao.sender, profile_help=HELP, message_id="<golden@example.org>")
    stem = "coop" if language == "fr" else "coop.en"
    for suffix, body in zip(("txt", "html"), parts(msg)):
        path = GOLDEN / f"{stem}.expected.{suffix}"
        if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        assert path.exists(), f"{path} missing: run with WATCHER_REGEN_GOLDEN=1"
        assert body == path.read_text(encoding="utf-8"), f"{path} differs (WATCHER_REGEN_GOLDEN=1 to accept)"


def test_ics_has_each_realistic_closing_in_montreal_time(renderer, coop_digest, seao):
    from icalendar import Calendar

    msg = renderer.render(coop_digest, seao.sender)
    [attachment] = [p for p in msg.iter_attachments()]
    assert attachment.get_filename() == "fermetures.ics"
    cal = Calendar.from_ical(attachment.get_content())
    events = [c for c in cal.walk("VEVENT")]
    realistic = [i.notice for i in coop_digest.items if i.match.verdict == "realistic" and i.notice.closing_at]
    assert realistic and len(events) == len(realistic)
    by_uid = {str(e["uid"]): e for e in events}
    for notice in realistic:
        event = by_uid[f"{notice.id}-closing@watcher"]
        assert event.decoded("dtstart") == notice.closing_at
        assert str(event["url"]) == notice.url and str(event["summary"]).startswith("Fermeture")


def test_days_to_bid_are_counted_from_the_digest_date(renderer, seao):
    """Judged as published, the matcher counts the days to bid from the publication (28 for Brossard);
    the mail, sent 11 days later, says what is left, in its reasons as in its closing line."""
    from datetime import datetime, timezone

    from watcher.match.verdict import lead_time

    judged = lead_time(seao.brossard, seao.coop.min_lead_days, seao.brossard.published_at)
    assert judged.ok and judged.fr.startswith("28 jours pour soumissionner")
    match = seao.match(seao.brossard, 0.9, "realistic", seao.region("16", "Montérégie"), judged)
    sent_at = datetime(2019, 2, 4, 12, 0, tzinfo=timezone.utc)  # 17 days and 4 hours before closing
    for lang, words in (("fr", "17 jours pour soumissionner"), ("en", "17 days to bid")):
        digest = build_digest(replace(seao.coop, language=lang), [(seao.brossard, match)], sent_at, 25)
        text, html = parts(renderer.render(digest, seao.sender))
        assert words in text and words in html
        assert "28 jours" not in text and "28 days" not in text
