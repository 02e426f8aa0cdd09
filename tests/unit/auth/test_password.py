"""Password hashes as RabbitMQ and LavinMQ store them, including imported ones."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest

from lavinmq.auth.password import (
    BCRYPT,
    MD5,
    SHA256,
    SHA512,
    InvalidPasswordHash,
    check_hash,
    hash_password,
    normalize_algorithm,
    verify_password,
)


@pytest.mark.parametrize("algorithm", [SHA256, SHA512, MD5])
def test_hash_and_verify(algorithm: str) -> None:
    stored = hash_password("s3cret", algorithm)
    check_hash(stored, algorithm)
    assert verify_password("s3cret", stored, algorithm)
    assert not verify_password("S3cret", stored, algorithm)
    assert hash_password("s3cret", algorithm) != stored  # a fresh salt each time


def test_a_rabbitmq_sha256_hash_verifies() -> None:
    # base64(salt + sha256(salt + password)), as rabbitmqctl hash_password prints
    salt = b"\x01\x02\x03\x04"
    stored = base64.b64encode(salt + hashlib.sha256(salt + b"guest").digest()).decode()
    assert verify_password("guest", stored, "rabbit_password_hashing_sha256")


def test_algorithm_spellings() -> None:
    assert normalize_algorithm(None) == SHA256
    assert normalize_algorithm("SHA512") == SHA512
    assert normalize_algorithm("rabbit_password_hashing_md5") == MD5
    assert normalize_algorithm("Bcrypt") == BCRYPT
    with pytest.raises(InvalidPasswordHash, match="unknown hashing algorithm"):
        normalize_algorithm("argon2")


def test_imported_bcrypt_hashes_verify_but_are_never_created() -> None:
    stored = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    check_hash(stored, BCRYPT)
    assert verify_password("pw", stored, BCRYPT)
    assert not verify_password("other", stored, BCRYPT)
    with pytest.raises(InvalidPasswordHash, match="not a bcrypt hash"):
        check_hash("abcd", BCRYPT)
    with pytest.raises(InvalidPasswordHash, match="not supported"):
        hash_password("pw", BCRYPT)


def test_malformed_hashes_are_rejected_and_never_match() -> None:
    with pytest.raises(InvalidPasswordHash, match="not valid base64"):
        check_hash("not base64!", SHA256)
    with pytest.raises(InvalidPasswordHash, match="too short"):
        check_hash(base64.b64encode(b"short").decode(), SHA256)
    assert not verify_password("pw", "not base64!", SHA256)
    assert not verify_password("pw", "", SHA256)  # a user without a password
