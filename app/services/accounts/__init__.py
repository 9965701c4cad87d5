"""Accounts: passwords, sessions, tokens, second factor, reset and invitation links.

One module per concern: ``login`` (both factors, throttling), ``sessions``
(web sessions and API tokens), ``totp`` (the second factor), ``passwords``
(hashing, policy, reset and invitation links) and ``users`` (creating and
managing people). Callers use the names re-exported here; the password hasher
lives in ``passwords`` alone.
"""

from __future__ import annotations

from app.services.accounts.common import find_user_by_email, normalise_email, user_by_id
from app.services.accounts.login import (
    authenticate,
    check_credentials,
    check_second_factor,
    check_throttle,
    complete_login,
    enrolment_required,
    second_factor_missing,
    second_factor_required,
)
from app.services.accounts.passwords import (
    MIN_PASSWORD,
    accept_invitation,
    change_password,
    check_link,
    check_password_policy,
    end_links,
    hash_password,
    needs_rehash,
    password_matches,
    request_password_reset,
    reset_password,
    send_password_reset,
)

# Not public: the page tests make reset and invitation links without sending mail.
from app.services.accounts.passwords import _new_link as _new_link
from app.services.accounts.sessions import (
    end_session,
    issue_api_token,
    load_session,
    revoke_all_sessions,
    revoke_api_token,
    start_session,
    user_for_token,
)
from app.services.accounts.totp import (
    begin_totp,
    confirm_totp,
    disable_totp,
    totp_uri,
    verify_second_factor,
)
from app.services.accounts.users import EMAIL_RE, create_user, list_users, set_active, set_locale

__all__ = [
    "EMAIL_RE",
    "MIN_PASSWORD",
    "accept_invitation",
    "authenticate",
    "second_factor_missing",
    "second_factor_required",
    "enrolment_required",
    "begin_totp",
    "change_password",
    "check_credentials",
    "check_link",
    "check_password_policy",
    "check_second_factor",
    "check_throttle",
    "complete_login",
    "confirm_totp",
    "create_user",
    "disable_totp",
    "end_session",
    "end_links",
    "find_user_by_email",
    "hash_password",
    "issue_api_token",
    "list_users",
    "load_session",
    "needs_rehash",
    "normalise_email",
    "user_by_id",
    "password_matches",
    "request_password_reset",
    "send_password_reset",
    "reset_password",
    "revoke_all_sessions",
    "revoke_api_token",
    "set_active",
    "set_locale",
    "start_session",
    "totp_uri",
    "user_for_token",
    "verify_second_factor",
]
