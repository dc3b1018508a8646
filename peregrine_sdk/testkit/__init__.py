"""The plugin test kit: what a plugin's own tests need, installed with the SDK.

- :class:`LoopbackServer` — an HTTP server on 127.0.0.1 that records requests and injects faults.
- :func:`pointed_at` — the one override of a plugin's ``endpoints`` (its service's addresses).
- :func:`run_contract` — the contract suite: metadata, fields, config example, secrets typed
  password, hooks and capabilities, and a fault sweep proving ``test()`` calls the network and
  names the right category for each fault.

Importing it never imports pytest; only :mod:`peregrine_sdk.testkit.pytest_plugin` does.
"""
from peregrine_sdk.testkit.endpoints import pointed_at
from peregrine_sdk.testkit.loopback import LoopbackServer, Reply, Request, refused_url

__all__ = ["LoopbackServer", "Reply", "Request", "pointed_at", "refused_url", "run_contract"]


def __getattr__(name: str):
    if name in ("run_contract", "ContractReport"):  # the suite imports more; load it on use
        from peregrine_sdk.testkit import contract

        return getattr(contract, name)
    raise AttributeError(name)
