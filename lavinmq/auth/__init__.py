"""Users, password hashes and permissions (users.json), as RabbitMQ and LavinMQ."""

from lavinmq.auth.password import InvalidPasswordHash, hash_password, verify_password
from lavinmq.auth.user import Permissions, User
from lavinmq.auth.user_store import UserStore

__all__ = [
    "InvalidPasswordHash",
    "Permissions",
    "User",
    "UserStore",
    "hash_password",
    "verify_password",
]
