"""``python -m modwsgi_magics``: the same as the ``modwsgi-magics`` command."""

import sys

from .cli import main

sys.exit(main())
