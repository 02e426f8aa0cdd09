"""Password hashes in RabbitMQ's format: base64(salt + digest(salt + password)).

``rabbit_password_hashing_sha256`` is the default (4-byte salt); SHA-512 and MD5 hashes
from imported definitions are verified too. bcrypt hashes (``$2a$``/``$2b$``) are accepted
on import when the optional ``bcrypt`` package is installed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

SHA256 = "rabbit_password_hashing_sha256"
SHA512 = "rabbit_password_hashing_sha512"
MD5 = "rabbit_password_hashing_md5"
BCRYPT = "lavinmq_bcrypt"
_DIGESTS = {SHA256: "sha256", SHA512: "sha512", MD5: "md5"}
SALT_SIZE = 4


class InvalidPasswordHash(ValueError):
    """A stored or imported hash that cannot be decoded for its algorithm."""


def normalize_algorithm(name: str | None) -> str:
    """Map RabbitMQ/LavinMQ spellings (``SHA256``, ``rabbit_password_hashing_sha256``) to ours."""
    low = (name or SHA256).lower()
    for suffix, algo in (("sha256", SHA256), ("sha512", SHA512), ("md5", MD5), ("bcrypt", BCRYPT)):
        if low.endswith(suffix):
            return algo
    raise InvalidPasswordHash(f"unknown hashing algorithm {name!r}")


def hash_password(password: str, algorithm: str = SHA256) -> str:
    """Hash ``password`` with a random salt; returns the base64 text RabbitMQ stores."""
    algo = normalize_algorithm(algorithm)
    if algo == BCRYPT:
        raise InvalidPasswordHash("creating bcrypt hashes is not supported, use SHA-256")
    salt = os.urandom(SALT_SIZE)
    digest = hashlib.new(_DIGESTS[algo], salt + password.encode()).digest()
    return base64.b64encode(salt + digest).decode()


def check_hash(password_hash: str, algorithm: str = SHA256) -> None:
    """Raise InvalidPasswordHash unless ``password_hash`` decodes for ``algorithm``."""
    algo = normalize_algorithm(algorithm)
    if algo == BCRYPT:
        if not password_hash.startswith(("$2a$", "$2b$", "$2y$")):
            raise InvalidPasswordHash("not a bcrypt hash")
        return
    _split(password_hash, algo)


def _split(password_hash: str, algo: str) -> tuple[bytes, bytes]:
    try:
        raw = base64.b64decode(password_hash, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPasswordHash(f"password hash is not valid base64: {exc}") from None
    size = hashlib.new(_DIGESTS[algo]).digest_size
    if len(raw) < size:
        raise InvalidPasswordHash(f"password hash too short for {algo}")
    return raw[:-size], raw[-size:]


def verify_password(password: str, password_hash: str, algorithm: str = SHA256) -> bool:
    """Constant-time check of ``password`` against a stored hash; False when none is set."""
    if not password_hash:
        return False
    algo = normalize_algorithm(algorithm)
    if algo == BCRYPT:
        return _verify_bcrypt(password, password_hash)
    try:
        salt, digest = _split(password_hash, algo)
    except InvalidPasswordHash:
        return False
    candidate = hashlib.new(_DIGESTS[algo], salt + password.encode()).digest()
    return hmac.compare_digest(candidate, digest)


def _verify_bcrypt(password: str, password_hash: str) -> bool:
    try:
        import bcrypt
    except ImportError:
        return False
    return bool(bcrypt.checkpw(password.encode(), password_hash.encode()))
