"""Browser-level load testing for Locust."""

__version__ = "0.1.0"
