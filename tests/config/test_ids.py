"""Public ids: OpenAI's shape, and every letter equally likely."""

import re
from collections import Counter

from config import ids


def test_ids_have_openais_shape_and_do_not_repeat():
    made = [ids.random_id("msg_") for _ in range(20_000)]

    assert all(re.fullmatch(r"msg_[A-Za-z0-9]{24}", made_id) for made_id in made)
    assert len(set(made)) == len(made)


def test_every_letter_is_equally_likely():
    letters = Counter("".join(ids.random_id("")[:24] for _ in range(20_000)))
    expected = 20_000 * 24 / 62

    assert set(letters) == set(ids._ALPHABET)
    # Seven standard deviations either way: never fails by chance, fails for a modulo bias (the
    # first 8 letters would come 5/4 as often) or for a letter never drawn.
    spread = 7 * (expected * (1 - 1 / 62)) ** 0.5
    assert all(abs(count - expected) < spread for count in letters.values())


def test_a_short_draw_reads_more_bytes(monkeypatch):
    draws = iter([bytes([255] * 30 + list(range(10))), bytes(range(40))])
    monkeypatch.setattr(ids.os, "urandom", lambda n: next(draws))

    assert ids.random_id("x_") == "x_" + "abcdefghij" + "abcdefghijklmn"
