"""Tests of the test kit (``exophone.testing``): its parts, the control API on both
stores, ``serve()``, the pytest plugin in a fresh pytest, ``exophone serve --test-mode``,
the store's reset, and the guide."""
