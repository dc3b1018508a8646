"""Command-line tools for plugin authors: ``peregrine-desktop new-integration`` and
``peregrine-desktop check-integrations`` (each module exposes ``main(argv) -> int``)."""
