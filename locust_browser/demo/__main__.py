import sys

from locust_browser.demo._server import main

sys.exit(main())
