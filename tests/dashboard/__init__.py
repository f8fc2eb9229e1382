"""The web dashboard: pages through httpx (test_pages) and a real Chromium (test_browser)."""
