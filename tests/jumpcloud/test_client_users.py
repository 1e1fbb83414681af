"""The client against whatever ``jumpcloud`` is: the emulator in CI, a real org with
``--jumpcloud URL`` + ``JUMPCLOUD_API_KEY``. Nothing here knows which; the same asserts must
hold on both, which keeps the emulator honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tokenrig.fixtures.jumpcloud import JumpCloudTarget, UserFactory
from tokenrig.harness.jumpcloud import (
    BadRequest,
    JumpCloudClient,
    MfaStatus,
    NotFound,
    Unauthorized,
    UserState,
)
from tokenrig.harness.secrets import SecretText


def test_create_get_delete_round_trip(
    jc_client: JumpCloudClient, jumpcloud: JumpCloudTarget
) -> None:
    username = jumpcloud.new_username()
    created = jc_client.create_user(username, f"{username}@example.test", firstname="Ada")
    try:
        assert len(created.id) == 24
        fetched = jc_client.get_user(created.id)
        assert (fetched.username, fetched.email, fetched.firstname) == (
            username,
            f"{username}@example.test",
            "Ada",
        )
        assert fetched.state is UserState.ACTIVATED
        assert fetched.suspended is False
        assert fetched.created is not None
    finally:
        deleted = jc_client.delete_user(created.id)
    assert deleted.id == created.id
    with pytest.raises(NotFound):
        jc_client.get_user(created.id)


def test_duplicate_username_is_400_with_message(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    user = jc_user()
    with pytest.raises(BadRequest) as caught:
        jc_client.create_user(user.username, "other-" + user.email)
    assert caught.value.status == 400  # wording is the emulator's: see test_emulator_api.py


def test_duplicate_email_is_400(
    jc_client: JumpCloudClient, jc_user: UserFactory, jumpcloud: JumpCloudTarget
) -> None:
    user = jc_user()
    with pytest.raises(BadRequest):
        jc_client.create_user(jumpcloud.new_username(), user.email)


# Only names JumpCloud documents as invalid (required; starts with a letter; no spaces). The
# emulator's own stricter choices (length 30, "@", dotless domains) are in test_emulator_api.py.
@pytest.mark.parametrize("username", ["1starts-with-digit", "has space", ""])
def test_invalid_username_is_400(jc_client: JumpCloudClient, username: str) -> None:
    with pytest.raises(BadRequest):
        jc_client.create_user(username, "valid@example.test")


@pytest.mark.parametrize("email", ["no-at-sign", ""])
def test_invalid_email_is_400(
    jc_client: JumpCloudClient, jumpcloud: JumpCloudTarget, email: str
) -> None:
    with pytest.raises(BadRequest):
        jc_client.create_user(jumpcloud.new_username(), email)


def test_list_envelope_and_limit_over_100(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    jc_user()
    page = jc_client.list_users(limit=1)
    assert page.total_count >= 1
    assert len(page.results) == 1
    with pytest.raises(BadRequest, match='"limit" exceeds maximum value of 100'):
        jc_client.list_users(limit=101)


def test_pagination_does_not_stop_at_ten(
    jc_client: JumpCloudClient, jc_user: UserFactory, jumpcloud: JumpCloudTarget
) -> None:
    made = {jc_user().id for _ in range(23)}
    tag = f"username:$gte:tokenrig-{jumpcloud.run_tag}-"
    seen = [u.id for u in jc_client.iter_users(filters=[tag], page_size=10) if u.id in made]
    assert sorted(seen) == sorted(made)  # all of them, each once
    assert len(seen) == len(set(seen))


def test_filter_sort_and_fields(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    first, second = jc_user(), jc_user()
    page = jc_client.list_users(filters=[f"username:$eq:{second.username}"])
    assert [u.id for u in page.results] == [second.id]
    assert page.total_count == 1
    pair = [first.username, second.username]
    listed = jc_client.list_users(
        sort="-username", filters=[f"username:$gte:{min(pair)}", f"username:$lte:{max(pair)}"]
    )
    names = [u.username for u in listed.results]
    assert names == sorted(names, reverse=True)
    projected = jc_client.list_users(fields="username", filters=[f"username:$eq:{first.username}"])
    assert projected.results[0].raw.keys() <= {"_id", "username"}


def test_search_by_filter_and_term(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    user = jc_user()
    by_filter = jc_client.search_users([{"username": user.username}])
    assert [u.id for u in by_filter] == [user.id]
    by_regex = jc_client.search_users(
        {"or": [{"email": {"$regex": "(?i)^" + user.username.upper()}}]}
    )
    assert user.id in [u.id for u in by_regex]
    by_term = jc_client.search_users(search_term=user.username, search_fields=["username"])
    assert [u.id for u in by_term] == [user.id]


def test_update_fields_and_find(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    user = jc_user()
    updated = jc_client.update_user(user.id, lastname="Lovelace", department="QA")
    assert updated.lastname == "Lovelace"
    assert updated.raw["department"] == "QA"
    found = jc_client.find_user(user.username)
    assert found is not None
    assert found.id == user.id


def test_suspend_and_unsuspend_keep_state_and_flag_together(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    user = jc_user()
    suspended = jc_client.suspend_user(user.id)
    assert (suspended.state, suspended.suspended) == (UserState.SUSPENDED, True)
    back = jc_client.unsuspend_user(user.id)
    assert (back.state, back.suspended) == (UserState.ACTIVATED, False)
    only_flag = jc_client.update_user(user.id, suspended=True)
    assert only_flag.state is UserState.SUSPENDED


def test_conflicting_state_and_suspended_is_400(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    user = jc_user()
    with pytest.raises(BadRequest):
        jc_client.update_user(user.id, state="SUSPENDED", suspended=False)
    assert jc_client.get_user(user.id).state is UserState.ACTIVATED  # nothing changed


def test_put_cannot_return_to_staged(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    user = jc_user()
    with pytest.raises(BadRequest):
        jc_client.update_user(user.id, state="STAGED")


def test_staged_user_activates(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    user = jc_user(state=UserState.STAGED)
    assert user.state is UserState.STAGED
    assert user.activated is False  # no password yet
    jc_client.activate_user(user.id, email=False)
    assert jc_client.get_user(user.id).state is UserState.ACTIVATED


def test_password_makes_user_activated(jc_user: UserFactory) -> None:
    user = jc_user(password=SecretText("Tokenrig-Pass-2026!", "password"))
    assert user.activated is True


def test_require_mfa_sets_fields_and_grace(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    until = datetime.now(UTC) + timedelta(days=3)
    user = jc_user(require_mfa=True, until=until)
    assert user.enable_user_portal_multifactor is True
    assert user.totp_enabled is False
    assert user.mfa.configured is False
    assert user.mfa.exclusion is True
    assert user.mfa.exclusion_until is not None
    assert abs((user.mfa.exclusion_until - until).total_seconds()) < 1
    waived = jc_client.waive_mfa(user.id)
    assert waived.enable_user_portal_multifactor is False
    assert waived.mfa.exclusion is False
    assert waived.mfa.exclusion_until is None


def test_mfa_enrollment_statuses_are_known_values(jc_user: UserFactory) -> None:
    user = jc_user(require_mfa=True, days=7)
    statuses = user.mfa_enrollment
    for status in (statuses.overall, statuses.totp, statuses.push, statuses.webauthn):
        assert status is not MfaStatus.UNKNOWN
    assert statuses.totp is not MfaStatus.ENROLLED


def test_reset_mfa_and_totp_info_for_unenrolled_user(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    user = jc_user(require_mfa=True, days=7)
    jc_client.reset_mfa(user.id, exclusion=True, days=5)
    after = jc_client.get_user(user.id)
    assert after.totp_enabled is False
    assert after.mfa.exclusion is True
    assert jc_client.totp_enrollment_date(user.id) is None


def test_resend_activation_accepts_pending_user(
    jc_client: JumpCloudClient, jc_user: UserFactory
) -> None:
    user = jc_user(state=UserState.STAGED)
    jc_client.resend_activation([user.id])  # raises on any non-2xx


def test_organization_settings_round_trip(jc_client: JumpCloudClient) -> None:
    org = jc_client.organization()
    assert org.id
    policy = dict(org.settings.get("passwordPolicy", {}))
    attempts = policy.get("maxLoginAttempts", 5)
    try:
        changed = jc_client.update_organization_settings(
            {"passwordPolicy": {"maxLoginAttempts": 7}}, org.id
        )
        assert changed.settings["passwordPolicy"]["maxLoginAttempts"] == 7
    finally:
        jc_client.update_organization_settings(
            {"passwordPolicy": {"maxLoginAttempts": attempts}}, org.id
        )


def test_org_totp_switch(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    before = jc_client.totp_factor().enabled
    user = jc_user(require_mfa=True, days=7)
    try:
        assert jc_client.set_totp_factor(False).enabled is False
        assert jc_client.totp_factor().enabled is False
        assert jc_client.get_user(user.id).mfa_enrollment.totp is MfaStatus.DISABLED
    finally:
        jc_client.set_totp_factor(before)
    assert jc_client.totp_factor().enabled is before


def test_scheduled_state_change(jc_client: JumpCloudClient, jc_user: UserFactory) -> None:
    user = jc_user(state=UserState.STAGED)
    start = datetime.now(UTC) + timedelta(days=30)
    jobs = jc_client.schedule_user_state(
        [user.id], UserState.ACTIVATED, start, send_activation_emails=False
    )
    assert [job.user_id for job in jobs] == [user.id]
    assert jobs[0].state is UserState.ACTIVATED
    pending = jc_client.scheduled_user_states(user.id)
    assert [job.job_id for job in pending] == [jobs[0].job_id]
    jc_client.cancel_scheduled_user_state(jobs[0].job_id)
    assert jc_client.scheduled_user_states(user.id) == []
    assert jc_client.get_user(user.id).state is UserState.STAGED


def test_wrong_key_is_401_and_key_not_in_error(jumpcloud: JumpCloudTarget) -> None:
    wrong = "wrong-" + "k" * 30
    with (
        JumpCloudClient.connect(jumpcloud.url, wrong) as client,
        pytest.raises(Unauthorized) as caught,
    ):
        client.list_users()
    assert caught.value.status == 401
    assert wrong not in str(caught.value)
    assert jumpcloud.config.api_key.reveal() not in repr(jumpcloud.config)
