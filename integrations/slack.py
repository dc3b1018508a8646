"""Slack: pipeline updates posted to one channel through an incoming webhook.

The webhook URL is the whole credential.  Slack offers no call that checks a hook without
posting, so the connection test posts an empty payload: a live hook refuses it with 400
``no_text`` and shows nothing; a revoked or archived one answers with its own code.
"""
from __future__ import annotations

from peregrine_sdk.capabilities import shorten
from peregrine_sdk.errors import ErrorKind
from peregrine_sdk.http import NO_RETRY, CodeHints, ErrorHints, error_code
from peregrine_sdk.webhooks import WebhookNotifier

NEW_HOOK = "create a new incoming webhook in your Slack app and paste its URL"

#: Slack's text/plain error codes → category and what the user does about it.
CODE_HINTS: CodeHints = {
    "invalid_token": (ErrorKind.INVALID_AUTH,
                      "Slack does not accept this webhook URL; copy the whole URL again from "
                      "your Slack app's Incoming Webhooks page."),
    "action_prohibited": (ErrorKind.INVALID_AUTH,
                          "A Slack workspace admin has blocked this webhook; ask them to allow "
                          "it, or " + NEW_HOOK + "."),
    "no_service": (ErrorKind.NOT_FOUND,
                   "Slack says this webhook was revoked or disabled; " + NEW_HOOK + "."),
    "channel_not_found": (ErrorKind.NOT_FOUND,
                          "The webhook's Slack channel was deleted; " + NEW_HOOK
                          + " for an existing channel."),
    "channel_is_archived": (ErrorKind.NOT_FOUND,
                            "The webhook's Slack channel is archived; unarchive it in Slack, "
                            "or " + NEW_HOOK + "."),
    "invalid_payload": (ErrorKind.UNKNOWN,
                        "Slack could not read the message Peregrine sent; please report this."),
}

#: When Slack's answer carries no known code, the status decides.
STATUS_HINTS: ErrorHints = {
    403: CODE_HINTS["invalid_token"],
    404: (ErrorKind.NOT_FOUND,
          "No Slack webhook answers at this URL; check that you pasted all of it, or "
          + NEW_HOOK + "."),
    410: CODE_HINTS["channel_is_archived"],
}

#: Answers to an empty post that prove the hook is live (nothing was shown in the channel).
LIVE_HOOK_CODES = frozenset({"no_text", "missing_text_or_fallback_or_attachments"})

URL_HINT = ("Paste the whole webhook URL from Slack; it starts with "
            "https://hooks.slack.com/services/.")

SECTION_LIMIT = 3000   # characters of mrkdwn in one section block
TEXT_LIMIT = 4000      # the notification fallback; Slack truncates longer text anyway


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters, so scraped text cannot forge links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: str, title: str, url: str | None) -> dict:
    """What one notification looks like in the channel: bold title, message, optional link."""
    link = ""
    if url:  # <url|label>: a raw | or > would end the link early
        safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        link = f"\n<{safe}|Open posting>"
    head = f"*{mrkdwn_escape(shorten(title, 150))}*\n"
    body = shorten(mrkdwn_escape(message), SECTION_LIMIT - len(head) - len(link))
    return {
        "text": shorten(f"{title}: {message}", TEXT_LIMIT),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": head + body + link}}],
        "unfurl_links": False,
    }


class SlackIntegration(WebhookNotifier):
    name = "slack"
    label = "Slack"
    tier = "free"
    description = "Posts job updates to a Slack channel of your choice through an incoming webhook."

    placeholder = "https://hooks.slack.com/services/T…/B…/…"
    field_help = ("In Slack: create an app at api.slack.com/apps → Incoming Webhooks → "
                  "Add New Webhook, pick the channel, then copy the URL.")
    url_hint = URL_HINT
    status_hints = STATUS_HINTS
    code_hints = CODE_HINTS
    posted = frozenset({200})   # Slack answers 200 "ok"
    #: The webhook answers 200 "ok" in text/plain; any 200 means the hook took the post.
    fault_outcomes = {"garbage": frozenset({ErrorKind.OK})}
    #: Slack's documented rate: one message per second per webhook.
    per_second = 1.0

    def probe(self) -> None:
        """Post an empty payload: a live hook refuses it (400 no_text) and the channel stays
        untouched."""
        response = self.call("POST", json={}, ok={200, 400}, policy=NO_RETRY)
        if response.status_code == 200 or error_code(response.text) in LIVE_HOOK_CODES:
            return
        raise self._http().error_for(response, STATUS_HINTS, CODE_HINTS)

    def payload(self, message: str, title: str, url: str | None) -> dict:
        return slack_payload(message, title, url)
