"""Serve the demo application: ``python -m locust_browser.demo --help``.

The package has imported Locust, which has had gevent patch the standard
library; patching here as well keeps the server on greenlets should that
import ever go (see the design note of ``_server``).
"""

from __future__ import annotations

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

import sys  # noqa: E402

from locust_browser.demo._server import main  # noqa: E402

sys.exit(main())
