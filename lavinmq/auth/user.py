"""A broker user: password hash, tags and per-vhost permissions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lavinmq.auth.password import SHA256, hash_password, verify_password

TAGS = ("administrator", "monitoring", "management", "policymaker", "impersonator")


@dataclass(slots=True)
class Permissions:
    """configure/write/read regular expressions for one vhost (RabbitMQ semantics)."""

    configure: str = ".*"
    write: str = ".*"
    read: str = ".*"
    _compiled: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] | None = field(
        default=None, repr=False, compare=False
    )

    def _patterns(self) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
        if self._compiled is None:
            self._compiled = (
                re.compile(self.configure or "^$"),
                re.compile(self.write or "^$"),
                re.compile(self.read or "^$"),
            )
        return self._compiled

    def can_configure(self, name: str) -> bool:
        return _allowed(self._patterns()[0], name)

    def can_write(self, name: str) -> bool:
        return _allowed(self._patterns()[1], name)

    def can_read(self, name: str) -> bool:
        return _allowed(self._patterns()[2], name)

    def to_dict(self) -> dict[str, str]:
        return {"configure": self.configure, "write": self.write, "read": self.read}


def _allowed(pattern: re.Pattern[str], name: str) -> bool:
    # RabbitMQ runs re:run(Name, Regex) unanchored, and treats "" as "^$".
    return pattern.search(name) is not None


@dataclass(slots=True)
class User:
    """A user as stored in users.json."""

    name: str
    password_hash: str = ""
    hashing_algorithm: str = SHA256
    tags: list[str] = field(default_factory=list)
    permissions: dict[str, Permissions] = field(default_factory=dict)
    topic_permissions: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str, password: str, tags: list[str] | None = None) -> User:
        return cls(name, hash_password(password), SHA256, list(tags or []))

    def check_password(self, password: str) -> bool:
        return verify_password(password, self.password_hash, self.hashing_algorithm)

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.hashing_algorithm = SHA256

    def has_tag(self, *tags: str) -> bool:
        return any(t in self.tags for t in tags)

    @property
    def is_admin(self) -> bool:
        return "administrator" in self.tags

    def can_topic(self, kind: str, vhost: str, exchange: str, routing_key: str) -> bool:
        """RabbitMQ topic authorisation: ``kind`` is "write" (publish) or "read" (bind).

        Without a topic permission for the exchange everything is allowed.
        """
        perm = self.topic_permissions.get(vhost, {}).get(exchange)
        if perm is None:
            return True
        return re.search(perm.get(kind) or "^$", routing_key) is not None

    def to_dict(self) -> dict[str, Any]:
        """RabbitMQ definitions shape (tags as a list, as RabbitMQ 3.9+ exports them)."""
        return {
            "name": self.name,
            "password_hash": self.password_hash,
            "hashing_algorithm": self.hashing_algorithm,
            "tags": list(self.tags),
            "limits": dict(self.limits),
        }
