"""The Peregrine plugin SDK: everything a plugin imports, and nothing of the app.

- :mod:`~peregrine_sdk.base` — ``IntegrationBase``, the guide's interface
- :mod:`~peregrine_sdk.errors` — the error vocabulary and its one message table
- :mod:`~peregrine_sdk.http` — timeouts, retries, the HTTP-status table, secret masking
- :mod:`~peregrine_sdk.capabilities` — what a plugin can do (job sync, documents, calendars…)
- :mod:`~peregrine_sdk.validation`, :mod:`~peregrine_sdk.discovery`,
  :mod:`~peregrine_sdk.external`, :mod:`~peregrine_sdk.registry` — finding and checking plugins
- :mod:`~peregrine_sdk.redaction` — masking secrets in logs and messages
- :mod:`~peregrine_sdk.sign_in`, :mod:`~peregrine_sdk.google_auth` — browser, device-code and
  service-account sign-in
- :mod:`~peregrine_sdk.documents`, :mod:`~peregrine_sdk.content_hashes`,
  :mod:`~peregrine_sdk.job_columns`, :mod:`~peregrine_sdk.calendar_events` — shared helpers
- :mod:`~peregrine_sdk.host` — what the hosting app hands over at start-up

Importing this package imports none of them: each is loaded when used.
"""
