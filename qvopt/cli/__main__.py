"""``python -m qvopt.cli``: the same as the ``qvopt`` command."""

import sys

from . import main

sys.exit(main())
