"""Money helpers. Amounts are integer minor units (cents); no floats anywhere near money."""

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
ZERO_DECIMAL = {"JPY", "KRW"}


def percent_of(amount, basis_points):
    """`basis_points`/10000 of `amount`, rounded half-up to the cent. The one rounding rule."""
    if amount < 0 or basis_points < 0:
        raise ValueError("percent_of takes non-negative amounts and rates")
    return (amount * basis_points + 5000) // 10000


def scale(amount, numerator, denominator):
    """`amount` x numerator / denominator, rounded half-up to the cent (non-negative inputs)."""
    if amount < 0 or numerator < 0 or denominator <= 0:
        raise ValueError("scale takes non-negative amounts and a positive denominator")
    return (2 * amount * numerator + denominator) // (2 * denominator)


def format_money(cents, currency="USD"):
    """1234, 'USD' -> '$12.34'; negative amounts get a leading minus."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    text = f"{cents:,}" if currency in ZERO_DECIMAL else f"{cents // 100:,}.{cents % 100:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def parse_money(text):
    """'12.34' -> 1234. Raises ValueError with a readable message on anything else."""
    raw = (text or "").strip().replace(",", "")
    if raw.startswith("-"):
        raise ValueError("Amounts can't be negative.")
    whole, _, frac = raw.partition(".")
    if not whole.isdigit() and not (whole == "" and frac.isdigit()):
        raise ValueError(f"{text!r} is not an amount.")
    if len(frac) > 2 or (frac and not frac.isdigit()):
        raise ValueError(f"{text!r} has more than two decimals.")
    return int(whole or "0") * 100 + int(frac.ljust(2, "0") or "0")
