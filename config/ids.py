"""Public ids in OpenAI's shape: a prefix (`msg_`, `run_`, `call_`…), then 24 letters and digits."""

import os
import string

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 24
# Each letter is one random byte below 248, the largest multiple of 62 that fits in a byte, taken
# modulo 62: every letter is equally likely. Bytes from 248 up are dropped; of 40 random bytes, 24
# are kept all but always (a shortfall, about once in 10^11 ids, reads more). One system call per
# id, where secrets.choice made one per letter.
_BYTE_LIMIT = 256 - 256 % len(_ALPHABET)
_TABLE = bytes.maketrans(
    bytes(range(_BYTE_LIMIT)), bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(_BYTE_LIMIT))
)
_DROPPED = bytes(range(_BYTE_LIMIT, 256))


def random_id(prefix: str) -> str:
    """The prefix, then 24 random letters and digits."""
    letters = b""
    while len(letters) < _LENGTH:
        letters += os.urandom(40).translate(_TABLE, _DROPPED)
    return prefix + letters[:_LENGTH].decode()
