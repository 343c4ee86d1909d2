"""The installation's secret key and the keyed hash (HMAC-SHA256) that pseudonymises household keys.

A household key must let one run count a household once across records and services, without
letting anyone who holds the warehouse confirm a guessed address or UPRN by hashing it. A plain
hash (MD5 or SHA-256 of the address) allows exactly that; an HMAC under a secret key does not:
without the key no guess can be checked.

The key is 32 random bytes, made on first use in a private, git-ignored file (`data/.insight-secret`
under the folder the pipeline runs from, or the file named by the environment variable
``INSIGHT_SECRET_FILE``), mode 0600, and read by :func:`load_secret` alone. It is never written to
the warehouse, the outputs or a log. Keys stay the same between runs of one installation (so runs
can be compared); a new secret file gives new keys, so making one is a WARNING, and each run's
privacy manifest records the key's :func:`fingerprint` (a keyed hash of a constant, never the
key) and warns when it differs from the previous run's (`pipeline.privacy.secret_record`). See
docs/data-protection.md.

In SQL the HMAC is computed by DuckDB itself (:func:`install`): the temporary macro
``insight_key(text)`` is ``sha256((K xor opad) || sha256((K xor ipad) || text))`` over bytes, the
HMAC construction of RFC 2104, equal to Python's ``hmac.new(K, text, sha256)`` (a test checks),
truncated to 128 bits. The padded keys live only in the connection's session variables.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from pipeline.errors import InsightError
from pipeline.executor import execute

logger = logging.getLogger(__name__)

SECRET_ENV = "INSIGHT_SECRET_FILE"
DEFAULT_SECRET = Path("data") / ".insight-secret"
KEY_BYTES = 32
#: hex characters of the HMAC kept in a key (128 bits: no collision among billions of households)
KEY_HEX = 32


class SecretError(InsightError, FileExistsError):
    """The secret file exists but cannot be used (wrong content or not a regular file): reported
    as `error: ...`; a FileExistsError too, as it was before the one error family."""


def secret_path() -> Path:
    """Where the installation's secret lives: $INSIGHT_SECRET_FILE, else data/.insight-secret."""
    return Path(os.environ.get(SECRET_ENV) or DEFAULT_SECRET)


def _create(path: Path) -> None:
    """Write a new secret atomically: a complete 0600 file appears under `path`, or nothing does
    (when another process made it first, its secret is kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.new-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(KEY_BYTES) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if the file exists: the first writer's secret wins
        _MADE.add(path.resolve())
        logger.warning("Made a new secret key %s (fingerprint %s): every household key made under it "
                       "differs from those of runs under any earlier key, so household counts cannot be "
                       "compared with theirs. If an earlier key was deleted or lost, restore it from a "
                       "backup before the next run; otherwise back this one up and keep it private",
                       path, fingerprint(bytes.fromhex(path.read_text(encoding="ascii").strip())))
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


#: Secret files this process made (`made_now`)
_MADE: set[Path] = set()
#: The constant whose keyed hash under the secret is the secret's fingerprint
FINGERPRINT_TEXT = b"council-insight secret fingerprint v1"
FINGERPRINT_HEX = 16


def fingerprint(key: bytes | None = None) -> str | None:
    """The secret's fingerprint: HMAC-SHA256 of a constant (FINGERPRINT_TEXT) under the key, 16 hex
    characters. Two runs with the same fingerprint used the same key (their household keys can be
    compared); the fingerprint reveals nothing of the key. None when there is no secret file yet
    (none is made for it)."""
    if key is None:
        path = secret_path()
        if not path.exists() and not path.is_symlink():
            return None
        key = load_secret()
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def made_now() -> bool:
    """Whether this process made the installation's secret (it did not exist when first needed)."""
    return secret_path().resolve() in _MADE


def load_secret() -> bytes:
    """The installation's secret key (32 bytes), made on first use. The one function that reads it."""
    path = secret_path()
    if not path.exists() and not path.is_symlink():
        _create(path)
    st = path.lstat()
    if not stat.S_ISREG(st.st_mode):
        raise SecretError(f"the secret key {path} is not a regular file; remove it and a new one "
                          "is made on the next run (household keys will change)")
    if st.st_mode & 0o077:
        os.chmod(path, 0o600)
        logger.warning("The secret key %s was readable by others; made it private (mode 0600)", path)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SecretError(f"the secret key {path} is damaged (expected {KEY_BYTES * 2} hex characters); "
                          "restore it from a backup, or remove it so a new one is made (household "
                          "keys will then differ from earlier runs')")
    return key


def keyed_hash(value: str, key: bytes | None = None) -> str:
    """The pseudonymous key of `value`, as the SQL macro `insight_key` computes it."""
    digest = hmac.new(load_secret() if key is None else key, value.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:KEY_HEX]


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = key.ljust(64, b"\0")  # a key of at most the block size (64 bytes) is zero-padded
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def install(con, key: bytes | None = None) -> None:
    """Define `insight_key(text)` (HMAC-SHA256 under the installation's secret, 32 hex characters)
    on a DuckDB connection. The padded keys are session variables, passed as parameters: never in
    SQL text (which an error message might quote) and never stored in the database file."""
    ipad, opad = _pads(load_secret() if key is None else key)
    execute(con, "secret_ipad", "SET VARIABLE insight_key_ipad = ?", [ipad])  # bound: never logged
    execute(con, "secret_opad", "SET VARIABLE insight_key_opad = ?", [opad])
    execute(con, "secret_macro", key_macro_sql())


def key_macro_sql() -> str:
    """The macro `insight_key(v)`: HMAC-SHA256 of v under the padded keys held in session
    variables, its first KEY_HEX hex characters."""
    return f"""CREATE OR REPLACE TEMP MACRO insight_key(v) AS left(sha256(
                getvariable('insight_key_opad')
                || unhex(sha256(getvariable('insight_key_ipad') || encode(CAST(v AS VARCHAR))))
            ), {int(KEY_HEX)})"""
