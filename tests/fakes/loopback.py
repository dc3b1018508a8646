"""The loopback server now ships in the SDK's test kit; this name stays for existing tests."""
from peregrine_sdk.testkit.loopback import Handler, LoopbackServer, Reply, Request, refused_url

__all__ = ["Handler", "LoopbackServer", "Reply", "Request", "refused_url"]
