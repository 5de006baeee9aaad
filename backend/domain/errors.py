"""Domain errors: what callers catch and turn into a clear answer (409, a polite reply, ...)."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. The message is safe to show to staff."""

    code = "domain_error"


class NotFound(DomainError):
    code = "not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot go from {current} to {target}")
        self.entity = entity
        self.current = current
        self.target = target


class ConcurrentChange(DomainError):
    """Someone else changed the object since it was read: nothing was written; look again."""

    code = "concurrent_change"


class StatusAssignedDirectly(DomainError):
    """Raised when code sets a status column outside the entity's state machine."""

    code = "status_assigned_directly"


class NotEnoughSeats(DomainError):
    code = "not_enough_seats"

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(
            f"Not enough seats: {requested} requested, {available} available"
            if available > 0
            else f"Not enough seats: {requested} requested, the departure is full"
        )
        self.requested = requested
        self.available = available


class DepartureClosed(DomainError):
    """The departure takes no new holds, bookings or waitlist entries: operations moved its
    bookings to other dates (`why` "moved") or cancelled it at its guarantee (`why`
    "cancelled"). See `inventory.closed_reason`."""

    code = "departure_closed"

    def __init__(self, why: str) -> None:
        super().__init__(f"This departure was {why}: it takes no new bookings")
        self.why = why


class InventoryBusy(DomainError):
    """The departure's lock could not be taken in time: try again, nothing was changed."""

    code = "inventory_busy"


class InvalidPhoneNumber(DomainError):
    code = "invalid_phone"


class InvalidReference(DomainError):
    code = "invalid_reference"
