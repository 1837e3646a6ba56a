"""What 30 wrong passwords in a row cost the server, with the production password hasher.

Run by hand:  .venv/bin/python bench/login_guessing.py [--attempts 30] [--accounts 1]
              [--no-lockout]

Posts wrong passwords from one address to /accounts/login/ through the test Client (in-memory
SQLite, Django's default PBKDF2 hasher as in production), over --accounts accounts in turn
(password spraying: --attempts 120 --accounts 30), and prints the total time, the time per
attempt, the hashes computed and the status codes. --no-lockout switches django-axes off, which
is how the login behaved before it.
"""

import argparse
import logging
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=1, help="accounts tried in turn")
    parser.add_argument("--no-lockout", action="store_true", help="django-axes off")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL="sqlite:///:memory:"
    )
    import django
    from django.conf import global_settings, settings

    # The test settings' fast hasher out, production's (Django's default) in.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    if args.no_lockout:
        settings.AXES_ENABLED = False
    django.setup()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from workspaces.models import User

    logging.disable(logging.WARNING)  # one "Too Many Requests" line per locked attempt
    warnings.filterwarnings("ignore", "No directory at")
    setup_test_environment()
    call_command("migrate", verbosity=0)
    victims = [f"victim{n}@bench.test" for n in range(args.accounts)]
    for email in victims:
        User.objects.create_user(email, "the real passphrase 42")
    hasher = get_hasher()
    assert isinstance(hasher, PBKDF2PasswordHasher), hasher

    hashes = 0
    original = PBKDF2PasswordHasher.encode

    def counting(self, *a, **kw):
        nonlocal hashes
        hashes += 1
        return original(self, *a, **kw)

    PBKDF2PasswordHasher.encode = counting
    client = Client()
    statuses = Counter()
    started = time.perf_counter()
    for i in range(args.attempts):
        response = client.post(
            "/accounts/login/", {"username": victims[i % len(victims)], "password": f"guess {i}"}
        )
        statuses[response.status_code] += 1
    elapsed = time.perf_counter() - started
    print(
        f"{args.attempts} wrong passwords over {args.accounts} account(s) ({hasher.algorithm}, {hasher.iterations:,} iterations;"
        f" lockout {'off' if args.no_lockout else 'on'}): {elapsed:.2f} s,"
        f" {elapsed / args.attempts * 1000:.0f} ms per attempt, {hashes} hashes,"
        f" statuses {dict(statuses)}"
    )


if __name__ == "__main__":
    main()
