"""Discord: pipeline updates posted to a channel through a channel webhook.

The webhook URL (``…/api/webhooks/<id>/<token>``) is the whole credential.  The connection test
reads the webhook object with a GET, which posts nothing.
"""
from __future__ import annotations

from peregrine_sdk.capabilities import shorten
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, CodeHints, ErrorHints
from peregrine_sdk.webhooks import WebhookNotifier

NEW_HOOK = ("create one under Server Settings → Integrations → Webhooks → New Webhook and "
            "paste its URL (Copy Webhook URL)")

#: Discord's JSON error codes (``{"message": …, "code": …}``) → category and the fix.
CODE_HINTS: CodeHints = {
    "50027": (ErrorKind.INVALID_AUTH,
              "Discord rejected the webhook's token; copy the whole webhook URL again from "
              "Server Settings → Integrations → Webhooks."),
    "10015": (ErrorKind.NOT_FOUND, "Discord says the webhook was deleted; " + NEW_HOOK + "."),
    "50006": (ErrorKind.UNKNOWN, "Discord refused an empty message; please report this."),
    "50035": (ErrorKind.UNKNOWN,
              "Discord refused the message's format (Invalid Form Body); please report this."),
}

#: When Discord's answer carries no known code, the status decides.
STATUS_HINTS: ErrorHints = {
    401: CODE_HINTS["50027"],
    403: (ErrorKind.INVALID_AUTH,
          "Discord does not let this webhook post; check the channel's permissions or "
          + NEW_HOOK + "."),
    404: (ErrorKind.NOT_FOUND,
          "No Discord webhook answers at this URL; check that you pasted all of it, or "
          + NEW_HOOK + "."),
}

URL_HINT = ("Paste the whole webhook URL from Discord; it starts with "
            "https://discord.com/api/webhooks/.")

CONTENT_LIMIT = 2000   # characters of message content
TITLE_LIMIT = 256      # characters of an embed title


def discord_payload(message: str, title: str, url: str | None) -> dict:
    """One message: the title in bold over the text, or, with a link, an embed whose title
    opens it.  ``allowed_mentions`` is empty so scraped text can never ping @everyone."""
    payload: dict = {"allowed_mentions": {"parse": []}}
    if url:
        payload["content"] = shorten(message, CONTENT_LIMIT)
        payload["embeds"] = [{"title": shorten(title, TITLE_LIMIT), "url": url}]
    else:
        payload["content"] = shorten(f"**{title}**\n{message}", CONTENT_LIMIT)
    return payload


class DiscordIntegration(WebhookNotifier):
    name = "discord"
    label = "Discord"
    tier = "free"
    description = "Posts job updates to a Discord channel through a channel webhook."

    placeholder = "https://discord.com/api/webhooks/…/…"
    field_help = ("In Discord: Server Settings → Integrations → Webhooks → New Webhook, "
                  "pick the channel, then Copy Webhook URL.")
    url_hint = URL_HINT
    status_hints = STATUS_HINTS
    code_hints = CODE_HINTS
    posted = frozenset({200, 204})   # 204; 200 when asked to wait
    #: A GET on a live webhook returns the webhook object; any other 200 body means the address
    #: is not a Discord webhook.
    fault_outcomes = {"garbage": frozenset({ErrorKind.NOT_FOUND})}

    def probe(self) -> None:
        """GET the webhook: Discord answers with the webhook object and posts nothing."""
        response = self.call("GET", ok={200}, policy=NO_RETRY)
        try:
            hook = response.json()
        except ValueError:
            hook = None
        if not (isinstance(hook, dict) and hook.get("id") and "channel_id" in hook):
            raise IntegrationError(
                ErrorKind.NOT_FOUND,
                "That address answered, but not as a Discord webhook; copy the webhook URL "
                "from Discord again.", detail="200 without a webhook object")

    def payload(self, message: str, title: str, url: str | None) -> dict:
        return discord_payload(message, title, url)
