"""The error tree: one class per reply code, soft/hard as the spec classifies them."""

from __future__ import annotations

import pytest

from lavinmq.amqp import constants, errors


def test_registry_matches_the_spec_constants() -> None:
    assert set(errors.ERRORS_BY_CODE) == constants.SOFT_ERRORS | constants.HARD_ERRORS
    for code, cls in errors.ERRORS_BY_CODE.items():
        assert cls.reply_code == code
        assert cls.name == constants.REPLY_NAMES[code]
        parent = errors.SoftError if code in constants.SOFT_ERRORS else errors.HardError
        assert issubclass(cls, parent), cls


def test_hard_errors_are_not_all_5xx() -> None:
    """320 and 402 close the connection: code ranges can't tell soft from hard."""
    assert issubclass(errors.ConnectionForced, errors.HardError)
    assert issubclass(errors.InvalidPath, errors.HardError)
    assert errors.ConnectionForced.reply_code < 500


def test_duplicate_codes_are_refused() -> None:
    class Duplicate(errors.SoftError):
        reply_code = 404

    with pytest.raises(RuntimeError, match="duplicate AMQP error code 404"):
        errors._register(Duplicate)


def test_reply_text() -> None:
    assert (
        errors.NotFound("no queue 'q' in vhost '/'").reply_text
        == "NOT_FOUND - no queue 'q' in vhost '/'"
    )
    assert errors.AccessRefused().reply_text == "ACCESS_REFUSED"


def test_reply_text_fits_a_shortstr_without_splitting_a_character() -> None:
    text = errors.PreconditionFailed("é" * 300).reply_text
    assert len(text.encode()) <= 255
    assert text.startswith("PRECONDITION_FAILED - éé")
    assert not text.endswith("\ufffd")


def test_with_method_fills_in_once() -> None:
    error = errors.SyntaxError_("bad").with_method(60, 40)
    assert (error.class_id, error.method_id) == (60, 40)
    assert error.with_method(50, 10) is error
    assert (error.class_id, error.method_id) == (60, 40)


@pytest.mark.parametrize(
    ("code", "cls"),
    [(404, errors.NotFound), (541, errors.InternalError), (999, errors.InternalError)],
)
def test_error_for_code(code: int, cls: type[errors.AMQPError]) -> None:
    error = errors.error_for_code(code, "text", 50, 10)
    assert type(error) is cls
    assert (error.text, error.class_id, error.method_id) == ("text", 50, 10)
    with pytest.raises(cls, match=r"^text$"):
        raise error
