"""portal.config.load(): development secret key, production guard, cookie flags."""

import stat

import pytest

from portal import config


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_DOTENV", str(tmp_path / "no.env"))  # ignore a developer's .env
    for name in ("SECRET_KEY", "PORTAL_ENV", "FLASK_DEBUG", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_development_key_is_kept_in_a_private_file(clean_env, tmp_path):
    first = config.load(str(tmp_path))["SECRET_KEY"]
    assert len(first) == 64
    assert config.load(str(tmp_path))["SECRET_KEY"] == first  # same key across restarts
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_secret_key_from_the_environment_wins(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "from-env")
    assert config.load(str(tmp_path))["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_a_secret_key(clean_env, tmp_path):
    clean_env.setenv("PORTAL_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        config.load(str(tmp_path))


@pytest.mark.parametrize(("debug", "secure"), [(None, True), ("0", True), ("1", False)])
def test_cookies_are_secure_unless_debugging(clean_env, tmp_path, debug, secure):
    if debug is not None:
        clean_env.setenv("FLASK_DEBUG", debug)
    values = config.load(str(tmp_path))
    assert values["SESSION_COOKIE_SECURE"] is secure
    assert values["REMEMBER_COOKIE_SECURE"] is secure
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secure_cookies_can_be_forced_in_debug(clean_env, tmp_path):
    clean_env.setenv("FLASK_DEBUG", "1")
    clean_env.setenv("SESSION_COOKIE_SECURE", "true")
    assert config.load(str(tmp_path))["SESSION_COOKIE_SECURE"] is True


def test_production_turns_on_hsts_https_and_staff_two_factor(clean_env, tmp_path):
    for name in ("HSTS_SECONDS", "FORCE_HTTPS", "REQUIRE_STAFF_TOTP"):
        clean_env.delenv(name, raising=False)
    development = config.load(str(tmp_path))
    assert (development["HSTS_SECONDS"], development["FORCE_HTTPS"]) == (0, False)
    assert development["REQUIRE_STAFF_TOTP"] is False
    clean_env.setenv("PORTAL_ENV", "production")
    clean_env.setenv("SECRET_KEY", "from-env")
    production = config.load(str(tmp_path))
    assert (production["HSTS_SECONDS"], production["FORCE_HTTPS"]) == (31536000, True)
    assert production["REQUIRE_STAFF_TOTP"] is True
    clean_env.setenv("REQUIRE_STAFF_TOTP", "0")
    assert config.load(str(tmp_path))["REQUIRE_STAFF_TOTP"] is False


def test_the_webhook_retry_schedule_is_seconds_separated_by_commas(clean_env, tmp_path):
    assert config.load(str(tmp_path))["WEBHOOK_RETRY_SCHEDULE"] == [
        5, 300, 1800, 7200, 18000, 36000, 36000]  # fmt: skip
    clean_env.setenv("WEBHOOK_RETRY_SCHEDULE", "1, 2.5,10")
    assert config.load(str(tmp_path))["WEBHOOK_RETRY_SCHEDULE"] == [1, 2.5, 10]
    for bad in ("soon", "5,-1"):
        clean_env.setenv("WEBHOOK_RETRY_SCHEDULE", bad)
        with pytest.raises(RuntimeError, match="WEBHOOK_RETRY_SCHEDULE"):
            config.load(str(tmp_path))
