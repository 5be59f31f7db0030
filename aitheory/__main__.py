"""``python -m aitheory`` is the same as the ``aitheory`` command."""

from aitheory.cli import main

raise SystemExit(main())
