"""The screenshots' demo data: a profile, six named jobs, a Paid licence made for the run, and
Slack, Discord and Home Assistant on loopback emulators (used by scripts/take-screenshots.py)."""
from __future__ import annotations

from pathlib import Path

DEMO_PROFILE = {
    "name": "Alex Rivera", "email": "alex.rivera@example.com", "phone": "+1 555 0100",
    "linkedin": "https://www.linkedin.com/in/alex-rivera-demo",
    "career_summary": "Product designer with eight years in B2B software.",
    "wizard_complete": True, "wizard_step": 4,
    "target_titles": ["Senior Product Designer", "UX Lead"],
    "target_locations": ["Remote", "Lisbon"], "exclude_keywords": ["crypto"],
}
DEMO_JOBS = [
    {"title": "Senior Product Designer", "company": "Northwind Labs", "location": "Remote",
     "status": "interviewing", "url": "https://jobs.example.com/northwind/1"},
    {"title": "UX Lead", "company": "Blue Harbor", "location": "Lisbon", "status": "applied",
     "url": "https://jobs.example.com/blue-harbor/7"},
    {"title": "Design Systems Designer", "company": "Fennel & Co", "location": "Remote (EU)",
     "status": "phone_screen", "url": "https://jobs.example.com/fennel/3"},
    {"title": "Product Designer, Payments", "company": "Quayside", "location": "Porto",
     "status": "pending", "url": "https://jobs.example.com/quayside/12"},
    {"title": "Staff Designer", "company": "Kestrel Health", "location": "Remote",
     "status": "offer", "url": "https://jobs.example.com/kestrel/5"},
    {"title": "UX Designer", "company": "Orbit Freight", "location": "Madrid",
     "status": "rejected", "url": "https://jobs.example.com/orbit/9"},
]


def demo_jobs() -> list[dict]:
    """The named demo jobs, with a next action overdue, one due today, an interview in two
    days and a deadline in three (what the reminder banner and the due chips show)."""
    from datetime import date, timedelta

    today = date.today()
    jobs = [dict(job) for job in DEMO_JOBS]
    jobs[0].update(next_action_on=(today - timedelta(days=1)).isoformat(),
                   next_action_note="Send the portfolio link to Dana",
                   interview_at=f"{today + timedelta(days=2)}T15:00:00+00:00",
                   interview_tz="Europe/Lisbon")
    jobs[1].update(next_action_on=today.isoformat(),
                   next_action_note="Follow up with the recruiter")
    jobs[3].update(deadline=(today + timedelta(days=3)).isoformat())
    return jobs


def activate_demo_licence(profile: object) -> None:
    """The demo is on the Paid plan through a key, as a customer's would be: signed by a key
    pair made for this run (the app is told to trust it; the publisher's key is not needed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from peregrine_desktop.settings import licence

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    licence.use_public_key(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    profile.activate_licence(licence.issue_token(private, "paid", 365))


_servers: list = []


def connect_demo_services(config_dir: Path) -> None:
    """Save Slack, Discord and Home Assistant pointed at loopback emulators (Discord's webhook
    deleted, so one card shows what a failure looks like)."""
    from integrations.discord import DiscordIntegration
    from integrations.homeassistant import HomeAssistantIntegration
    from integrations.slack import SlackIntegration
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.notifier_services import (discord_service, homeassistant_service,
                                               slack_service)

    slack, discord, ha = (LoopbackServer().start() for _ in range(3))
    _servers.extend((slack, discord, ha))
    hook = slack_service(slack)
    webhook = discord_service(discord)
    webhook.deleted = True
    home = homeassistant_service(ha)
    SlackIntegration.save_config({"webhook_url": hook.url}, config_dir)
    DiscordIntegration.save_config({"webhook_url": webhook.url}, config_dir)
    HomeAssistantIntegration.save_config({"base_url": home.url, "token": home.token,
                                          "notify_service": "mobile_app_pixel_7"},
                                         config_dir)
