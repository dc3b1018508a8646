import sys

from peregrine_desktop.app import main

sys.exit(main())
