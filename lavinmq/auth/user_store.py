"""users.json: users with their permissions, written atomically on every change."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lavinmq.auth.password import check_hash, normalize_algorithm
from lavinmq.auth.user import Permissions, User
from lavinmq.storage.jsonfile import read_json, write_json_atomic

log = logging.getLogger(__name__)


def parse_tags(raw: str | list[str] | None) -> list[str]:
    """Tags arrive as "a,b" (RabbitMQ definitions) or as a list."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    return [t.strip() for t in items if t and t.strip()]


class UserStore:
    """All users, persisted in ``<data_dir>/users.json``."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / "users.json"
        self._users: dict[str, User] = {}
        self._load()

    def _load(self) -> None:
        data = read_json(self._path, [])
        if not isinstance(data, list):
            raise ValueError(f"{self._path}: expected a JSON list of users")
        for item in data:
            user = User(
                item["name"],
                item.get("password_hash", ""),
                normalize_algorithm(item.get("hashing_algorithm")),
                parse_tags(item.get("tags")),
            )
            for vhost, perm in (item.get("permissions") or {}).items():
                user.permissions[vhost] = Permissions(
                    perm["configure"], perm["write"], perm["read"]
                )
            user.topic_permissions = item.get("topic_permissions") or {}
            user.limits = item.get("limits") or {}
            self._users[user.name] = user

    def save(self) -> None:
        out: list[dict[str, Any]] = []
        for user in self._users.values():
            data = user.to_dict()
            data["tags"] = user.tags
            data["permissions"] = {vh: p.to_dict() for vh, p in user.permissions.items()}
            data["topic_permissions"] = user.topic_permissions
            out.append(data)
        write_json_atomic(self._path, out)

    def __iter__(self) -> Iterator[User]:
        return iter(list(self._users.values()))

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, name: object) -> bool:
        return name in self._users

    def get(self, name: str) -> User | None:
        return self._users.get(name)

    def add(
        self,
        name: str,
        password: str | None = None,
        tags: list[str] | None = None,
        password_hash: str | None = None,
        hashing_algorithm: str | None = None,
        save: bool = True,
    ) -> User:
        """Create or update a user from a password or a pre-computed hash."""
        user = self._users.get(name) or User(name)
        if password is not None:
            user.set_password(password)
        elif password_hash is not None:
            algo = normalize_algorithm(hashing_algorithm)
            if password_hash:
                check_hash(password_hash, algo)
            user.password_hash, user.hashing_algorithm = password_hash, algo
        if tags is not None:
            user.tags = list(tags)
        self._users[name] = user
        if save:
            self.save()
        return user

    def delete(self, name: str) -> User | None:
        user = self._users.pop(name, None)
        if user is not None:
            self.save()
        return user

    def set_permissions(self, user: str, vhost: str, perm: Permissions, save: bool = True) -> None:
        self._users[user].permissions[vhost] = perm
        if save:
            self.save()

    def clear_permissions(self, user: str, vhost: str) -> bool:
        found = self._users[user].permissions.pop(vhost, None) is not None
        if found:
            self.save()
        return found

    def drop_vhost(self, vhost: str) -> None:
        """Remove every permission on a deleted vhost."""
        for user in self._users.values():
            user.permissions.pop(vhost, None)
            user.topic_permissions.pop(vhost, None)
        self.save()

    def ensure_default(self, name: str, password: str) -> None:
        """Create the default administrator (guest) when no user exists at all."""
        if self._users:
            return
        log.info("creating default user %s", name)
        user = User.create(name, password, ["administrator"])
        user.permissions["/"] = Permissions()
        self._users[name] = user
        self.save()
