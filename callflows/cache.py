"""The runtime's cache of live configurations, one key per phone number."""

from django.core.cache import cache

PREFIX = "live-config:v1:"


def key(number: str) -> str:
    return PREFIX + number


def get(number: str):
    return cache.get(key(number))


def put(number: str, value, timeout: int = 300) -> None:
    cache.set(key(number), value, timeout)


def clear_numbers(numbers) -> None:
    cache.delete_many([key(n) for n in numbers])
