"""The Python SDK of the ExoPhone API (v2_beta), for Exotel and exophone servers alike.

::

    from exophone.client import Client, NumberUnavailableError

    with Client() as client:  # EXOTEL_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN, EXOTEL_BASE_URL
        found = client.available_phone_numbers.search("IN", "Landline", in_region="KA")
        try:
            number = client.incoming_phone_numbers.buy(found[0].phone_number)
        except NumberUnavailableError:
            ...  # someone was faster

:class:`Client` is synchronous, :class:`AsyncClient` its async twin; both share
one implementation of requests, retries and parsing (``_core``) and differ
only in transport. Results are the frozen dataclasses of
:mod:`exophone.client.models`; errors the hierarchy of
:mod:`exophone.client.errors`. The guide is ``docs/sdk.md``.
"""

from __future__ import annotations

from exophone.client._async import (
    AsyncAvailablePhoneNumbers,
    AsyncClient,
    AsyncIncomingPhoneNumbers,
)
from exophone.client._config import REGIONS
from exophone.client._sync import AvailablePhoneNumbers, Client, IncomingPhoneNumbers
from exophone.client.errors import (
    AuthenticationError,
    ConnectionError,
    ExophoneError,
    NotFoundError,
    NumberUnavailableError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    ValidationError,
    error_for_status,
)
from exophone.client.models import AvailableNumber, Country, IncomingNumber, Page

__all__ = [
    "REGIONS",
    "AsyncAvailablePhoneNumbers",
    "AsyncClient",
    "AsyncIncomingPhoneNumbers",
    "AuthenticationError",
    "AvailableNumber",
    "AvailablePhoneNumbers",
    "Client",
    "ConnectionError",
    "Country",
    "ExophoneError",
    "IncomingNumber",
    "IncomingPhoneNumbers",
    "NotFoundError",
    "NumberUnavailableError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "ValidationError",
    "error_for_status",
]
