"""The sign-in rate limit counts in the real Redis, the storage every web worker shares."""

import redis

from tests import factories
from tests.apps import make_app
from tests.pages import post_login, signed_in


def test_sign_in_rate_limit_uses_redis(tmp_path, redis_url):
    app = make_app(
        tmp_path, redis_url, RATELIMIT_STORAGE_URI=redis_url, LOGIN_RATE_LIMIT="3/minute"
    )

    with app.app_context():
        factories.user("sam@example.com")
    client = app.test_client()
    for _ in range(3):
        assert post_login(client, "sam@example.com", "wrong-password-1").status_code == 422
    response = post_login(client, "sam@example.com")  # right password, but too many tries
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)
    assert not signed_in(client)
    # The counter lives in the real Redis, shared by every web worker.
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert any(b"login" in key or b"LIMITER" in key for key in keys), keys
    # GET is not limited: the form still renders.
    assert client.get("/login").status_code == 200


def test_the_api_limit_per_key_is_counted_in_redis(tmp_path, redis_url):
    """The API's limit per key is counted in the real Redis, as the sign-in limit is."""
    app = make_app(tmp_path, redis_url, RATELIMIT_STORAGE_URI=redis_url,
                   API_RATE_LIMIT="2/minute")  # fmt: skip
    with app.app_context():
        _, token = factories.api_key()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert [client.get("/api/v1/returns", headers=headers).status_code for _ in range(2)] == [
        200,
        200,
    ]
    refused = client.get("/api/v1/returns", headers=headers)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert any(b"api:" in key for key in keys), keys
