"""Action ids and button values: the contract that already-posted messages rely on."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot import actions
from bot.actions import BadButtonValue, ButtonValue, decode, encode
from bot.errors import UserError


def test_action_ids_are_the_published_strings():
    # Changing any of these breaks buttons on messages already in Slack: every id is pinned.
    published = {
        "JOBS_RERUN": "jobs_rerun",
        "JOBS_RERUN_CONFIRMED": "jobs_rerun_confirmed",
        "JOBS_ACK": "jobs_ack",
        "JOBS_UNACK": "jobs_unack",
        "JOBS_SNOOZE": "jobs_snooze",
        "JOBS_OPEN_RUN": "jobs_open_run",
        "JOBS_OPEN_JOB": "jobs_open_job",
        "JOBS_SHARE": "jobs_share",
        "JOBS_PICK_JOB": "jobs_pick_job",
        "JOBS_FEEDBACK_EXPECTED": "jobs_feedback_expected",
        "JOBS_FEEDBACK_NOT_ANOMALY": "jobs_feedback_not_anomaly",
        "JOBS_UNMUTE": "jobs_unmute",
    }
    defined = {n: getattr(actions, n) for n in dir(actions) if n.startswith("JOBS_")}
    assert defined == published
    assert sorted(actions.ALL_ACTION_IDS) == sorted(published.values())
    assert all(len(a) <= 255 for a in actions.ALL_ACTION_IDS)
    assert set(actions.TEMPLATE_IDS.values()) <= set(actions.ALL_ACTION_IDS)


def test_encode_is_small_versioned_json_with_short_keys():
    raw = encode(workspace_id=1234567890123456, job_id=987654321012345, run_id=42)
    assert json.loads(raw) == {"v": 1, "w": 1234567890123456, "j": 987654321012345, "r": 42}
    assert " " not in raw


def test_round_trip_for_every_action_kind():
    cases = {
        actions.JOBS_RERUN: ButtonValue(workspace_id=1, job_id=2, run_id=3),
        actions.JOBS_ACK: ButtonValue(alert_id="al-7"),
        actions.JOBS_SNOOZE: ButtonValue(alert_id="al-7", snooze="tomorrow"),
        actions.JOBS_SHARE: ButtonValue(command="cost 7d by tag:team", at=1772438400),
        actions.JOBS_FEEDBACK_EXPECTED: ButtonValue(key="job:1/2", day=date(2026, 3, 2)),
        actions.JOBS_PICK_JOB: ButtonValue(workspace_id=1, job_id=2),
    }
    for action_id, value in cases.items():
        assert decode(encode(value), action_id) == value


def test_unicode_and_markup_survive_a_share_value():
    value = ButtonValue(command="status <!channel> “nächtlich” `x`")
    assert decode(encode(value), actions.JOBS_SHARE).command == value.command


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        '{"v": 1, "w": "1", "j": 2, "r": 3}',  # ids as strings are not coerced
        '{"v": 1, "w": 1.0, "j": 2, "r": 3}',
        '{"v": 1, "w": -1, "j": 2, "r": 3}',
        '{"v": 1, "w": 1, "j": 2, "r": 3, "admin": true}',  # unknown keys are refused
        '{"v": 1, "j": 2, "r": 3}',  # a job id without its workspace is ambiguous
        '{"v": 1, "a": "al-1", "s": "forever"}',
        "{" * 5000,
    ],
)
def test_forged_or_garbled_values_are_refused_with_a_friendly_message(raw):
    with pytest.raises(BadButtonValue, match="damaged or was not made by jobs-bot"):
        decode(raw, actions.JOBS_RERUN)


def test_unknown_version_says_so():
    with pytest.raises(BadButtonValue, match="version 2"):
        decode('{"v": 2, "w": 1}')
    with pytest.raises(BadButtonValue, match="version"):
        decode('{"v": true}')


def test_fields_the_action_needs_are_checked_once_at_decode():
    raw = encode(alert_id="al-1")
    assert decode(raw, actions.JOBS_ACK).alert_id == "al-1"
    with pytest.raises(BadButtonValue):
        decode(raw, actions.JOBS_RERUN)
    with pytest.raises(BadButtonValue):
        decode(raw, actions.JOBS_SNOOZE)  # snooze needs the duration too
    with pytest.raises(BadButtonValue, match="Unknown button"):
        decode(raw, "jobs_delete_everything")


def test_bad_button_value_is_a_user_error():
    assert issubclass(BadButtonValue, UserError)


def test_values_over_2000_chars_cannot_be_made():
    with pytest.raises(ValueError):
        ButtonValue(command="x" * 1001)
    # Each field is within its own limit, but JSON escaping of quotes doubles them: 2600+.
    with pytest.raises(ValueError, match="2000"):
        encode(command='"' * 1000, key='"' * 300)
    assert len(encode(command="x" * 1000, key="k" * 300)) < 2000
