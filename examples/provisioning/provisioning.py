"""Phone numbers for the customers of a (made-up) helpdesk product, bought with the SDK.

Each new customer gets a landline in the telecom circle they serve, named
after them and routed to their call flow; a cancelled customer's number is
released. This is the program ``test_provisioning.py`` tests against an
exophone server with the pytest plugin; the guide is docs/testing.md.

- Buying: search the customer's circle, buy the first number still for sale.
  Someone may buy a number between our search and our purchase
  (``NumberUnavailableError``): try the next one.
- Rate limits: the SDK retries a 429 after the ``Retry-After`` the service
  sends (``max_retries``); if the service still refuses, ``TryLater`` carries
  the wait, so the job can go back on the queue instead of failing.
- Cancelling: release the customer's number; cancelling twice is harmless.
- Idempotent: provisioning a customer who has a number returns that number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exophone.client import (
    Client,
    IncomingNumber,
    NotFoundError,
    NumberUnavailableError,
    RateLimitError,
)

FLOW_URL = "https://my.exotel.com/helpdesk/exoml/start_voice/{customer}"


@dataclass(frozen=True)
class Customer:
    id: str  # our id; it becomes the number's friendly name
    name: str
    circle: str  # the telecom circle the customer serves, such as "KA"


@dataclass(frozen=True)
class Provisioned:
    customer: Customer
    phone_number: str
    sid: str
    since: datetime  # when the number was bought, as the service dates it


class ProvisioningError(Exception):
    """Provisioning did not happen; the message says why."""


class NoNumberAvailable(ProvisioningError):
    """No number is for sale in the customer's circle."""


class TryLater(ProvisioningError):
    """The service rate-limits us even after the SDK's retries."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__(f"rate-limited; try again in {retry_after or 60:g} seconds")
        self.retry_after = retry_after


class Provisioner:
    """Buys, finds and releases customers' numbers through one SDK client."""

    def __init__(self, client: Client, *, country: str = "IN", number_type: str = "Landline"):
        self.client = client
        self.country = country
        self.number_type = number_type

    def provision(self, customer: Customer) -> Provisioned:
        """The customer's number: the one they have, or a new one in their circle."""
        try:
            number = self.number_of(customer) or self._buy(customer)
        except RateLimitError as exc:
            raise TryLater(exc.retry_after) from exc
        return Provisioned(customer, number.phone_number, number.sid, number.date_created)

    def _buy(self, customer: Customer) -> IncomingNumber:
        candidates = self.client.available_phone_numbers.search(
            self.country, self.number_type, in_region=customer.circle
        )
        for candidate in candidates:
            try:
                return self.client.incoming_phone_numbers.buy(
                    candidate.phone_number,
                    friendly_name=customer.id,
                    voice_url=FLOW_URL.format(customer=customer.id),
                )
            except NumberUnavailableError:
                continue  # bought by someone else since the search
        raise NoNumberAvailable(f"no {self.number_type} number for sale in {customer.circle}")

    def number_of(self, customer: Customer) -> IncomingNumber | None:
        """The number we bought for the customer, found by its friendly name."""
        for number in self.client.incoming_phone_numbers.iter():
            if number.friendly_name == customer.id:
                return number
        return None

    def cancel(self, customer: Customer) -> bool:
        """Release the customer's number; False if they had none (already cancelled)."""
        number = self.number_of(customer)
        if number is None:
            return False
        try:
            self.client.incoming_phone_numbers.release(number.sid)
        except NotFoundError:
            return False  # released meanwhile, by another worker
        return True


def connect() -> Client:
    """The client the helpdesk runs with: credentials and URL from ``EXOTEL_*`` variables.

    Point ``EXOTEL_BASE_URL`` at an exophone server to run against it.
    """
    return Client(timeout=10.0, max_retries=3)
