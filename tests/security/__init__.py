"""Security guarantees, each proven by a test (SECURITY.md lists which file proves what).

- ``test_isolation``: one account can neither read, change, release nor learn
  of another's numbers, through any endpoint (API and dashboard) or id form.
- ``test_credentials``: revoked keys and disabled accounts are refused at
  once, also by a second server process on the same database.
- ``test_secrets``: tokens are stored only as hashes and never logged.
- ``test_errors``: no error answer carries a stack trace or internals.
- ``test_privileged``: the admin API and the test-mode control API refuse
  every request without their token.
"""
