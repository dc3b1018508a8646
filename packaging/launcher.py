"""The bundle's entry script: the same ``main`` the ``peregrine-desktop`` launcher calls."""
import sys

from peregrine_desktop.app import main

sys.exit(main())
