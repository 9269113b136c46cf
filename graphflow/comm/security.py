"""The cluster's shared secret: where it comes from and how it is kept.

Every peer proves it holds the cluster token before anything it sends is
deserialized (`graphflow.comm.protocol` puts a MAC of each message under the
token).  The token is looked up in this order:

1. ``GRAPHFLOW_TOKEN`` in the environment;
2. ``--token-file PATH`` on the command line (``token_file=`` here);
3. ``~/.graphflow/token``, mode 0600, which a scheduler started with neither
   creates.

So on one host ``graphflow scheduler``, ``graphflow worker tcp://127.0.0.1:8786``
and ``gf.Client("tcp://127.0.0.1:8786")`` agree with no flags; across hosts the
user copies the file or sets the variable.  A `LocalCluster` makes a fresh
random token and hands it to its processes through the environment.

    >>> import os
    >>> len(new_token())
    32
    >>> token_from_env({"GRAPHFLOW_TOKEN": "s3cret"})
    b's3cret'

Encryption (optional, ``comm.encrypt``): zmq CURVE needs a key pair on every
listener and the listeners' public key on everyone connecting.  Rather than a
second secret to copy around, the cluster's CURVE secret key is derived from
the token (`derived_curve_secret`), so turning encryption on is one switch --
``graphflow scheduler --encrypt``, ``graphflow worker --encrypt``,
``gf.config.set({"comm.encrypt": True})`` or ``GRAPHFLOW_COMM__ENCRYPT=1``
for clients, ``LocalCluster(encrypt=True)`` -- and a peer without the token
does not even know the listeners' public key, so it cannot finish the CURVE
handshake: not one byte it sends reaches graphflow.  ``GRAPHFLOW_CURVE_SECRET``
still overrides the derived key (`curve_secret` says which key a socket uses).

Exposure: `exposure_warnings` says what is weak about a token used on an
address other hosts can reach -- too short to resist guessing, or kept in a
file others can read -- and the CLI logs it at start.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from ..errors import ConfigError

__all__ = ["CURVE_ENV", "ENV_VAR", "MIN_TOKEN_BYTES", "default_token_path", "new_token", "token_from_env",
           "load_token", "token_file_in_use", "exposure_warnings", "CurveKeys", "derived_curve_secret",
           "curve_secret"]

ENV_VAR = "GRAPHFLOW_TOKEN"
CURVE_ENV = "GRAPHFLOW_CURVE_SECRET"

#: A token shorter than this on an address other hosts can reach draws a warning (`exposure_warnings`).
MIN_TOKEN_BYTES = 16


def new_token() -> bytes:
    """A fresh random token: 32 URL-safe characters."""
    return secrets.token_urlsafe(24).encode()


def default_token_path() -> Path:
    """``~/.graphflow/token`` (``$HOME`` honoured, so tests can point it elsewhere)."""
    return Path(os.path.expanduser("~")) / ".graphflow" / "token"


def token_from_env(environ=None) -> bytes | None:
    """The token in ``GRAPHFLOW_TOKEN``, or None."""
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    return value.strip().encode() if value and value.strip() else None


def _read_token_file(path: Path) -> bytes:
    try:
        text = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the cluster token file {str(path)!r}: {exc}") from None
    if not text:
        raise ConfigError(f"the cluster token file {str(path)!r} is empty; put a secret in it or delete it")
    return text


def _write_token_file(path: Path) -> bytes:
    token = new_token()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: if two schedulers start at once, the second reads the first one's token.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token_file(path)
    with os.fdopen(fd, "wb") as f:
        f.write(token + b"\n")
    return token


def load_token(token_file=None, *, create: bool = False, environ=None) -> bytes:
    """The cluster token, looked up as the module docstring says.

    ``create=True`` (the scheduler) writes ``~/.graphflow/token`` when no token
    exists anywhere; without it (workers, clients) a missing token is an error
    that says where to put one.
    """
    token = token_from_env(environ)
    if token is not None:
        return token
    if token_file is not None:
        return _read_token_file(Path(token_file))
    path = default_token_path()
    if path.exists():
        return _read_token_file(path)
    if create:
        return _write_token_file(path)
    raise ConfigError(
        f"no cluster token: set {ENV_VAR}, pass --token-file, or copy the scheduler's {path} to this host"
    )


def token_file_in_use(token_file=None, environ=None) -> Path | None:
    """The file `load_token` reads (``token_file``, else ``~/.graphflow/token``), or None when the token
    comes from ``GRAPHFLOW_TOKEN``."""
    if token_from_env(environ) is not None:
        return None
    return Path(token_file) if token_file is not None else default_token_path()


def exposure_warnings(token: bytes, host: str, token_file: Path | str | None = None) -> list:
    """What is weak about serving ``token`` on ``host`` (a bind address): a list of sentences, empty if nothing.

    Only an address beyond loopback (``0.0.0.0``, a LAN address, a host name)
    lets other hosts try tokens, so loopback draws no warning.  Warned: a token
    shorter than `MIN_TOKEN_BYTES`, and a token file that its group or others
    may read or write.

        >>> exposure_warnings(b"x", "127.0.0.1")
        []
        >>> exposure_warnings(b"x", "0.0.0.0")[0][:57]
        'the cluster token is 1 byte long and this process listens'
    """
    from .addresses import is_loopback

    if is_loopback(host.strip("[]")):
        return []
    where = "every interface" if host in ("", "*", "0.0.0.0", "::", "[::]") else host
    out = []
    if len(token) < MIN_TOKEN_BYTES:
        out.append(
            f"the cluster token is {len(token)} byte{'s' if len(token) != 1 else ''} long and this process "
            f"listens on {where}, where other hosts can try tokens: use at least {MIN_TOKEN_BYTES} random "
            f"bytes (python -c 'import secrets; print(secrets.token_urlsafe(24))'), or delete the token file "
            f"and let the scheduler write a new one")
    if token_file is not None:
        try:
            mode = stat.S_IMODE(os.stat(token_file).st_mode)
        except OSError:
            mode = 0
        if mode & 0o077:
            out.append(
                f"the cluster token file {str(token_file)!r} has mode {mode:04o}: other users of this host can "
                f"read{' or change' if mode & 0o022 else ''} it, and this process listens on {where}; "
                f"run: chmod 600 {token_file}")
    return out


def derived_curve_secret(token: bytes) -> bytes:
    """The cluster's CURVE secret key (Z85, 40 bytes), derived from ``token``.

    Every process holding the token derives the same key pair; the derivation
    is a keyed hash bound to its purpose, so the key reveals nothing of the
    token, and the public half is unknown to anyone without the token.

        >>> a = derived_curve_secret(b"s3cret")
        >>> len(a), a == derived_curve_secret(b"s3cret"), a == derived_curve_secret(b"other")
        (40, True, False)
    """
    from zmq.utils import z85

    raw = hashlib.blake2b(token, digest_size=32, person=b"graphflow/curve").digest()
    return z85.encode(raw)


def curve_secret(explicit=None, token: bytes | None = None, environ=None) -> bytes | None:
    """The CURVE secret key a socket uses (Z85 bytes), or None for no encryption.

    In order: ``explicit`` (bytes or str; ``False`` means no encryption
    whatever the settings say); ``GRAPHFLOW_CURVE_SECRET``; the key derived
    from ``token`` when ``comm.encrypt`` is on; else None.  Raises
    `ConfigError` when encryption is on and there is no token to derive from.
    """
    if explicit is False:
        return None
    if explicit is not None:
        return explicit.encode() if isinstance(explicit, str) else bytes(explicit)
    value = (os.environ if environ is None else environ).get(CURVE_ENV)
    if value:
        return value.strip().encode()
    from .. import config

    if not config.get("comm.encrypt"):
        return None
    if token is None:
        raise ConfigError("comm.encrypt is on but this endpoint has no cluster token to derive the key from: "
                          f"set {ENV_VAR} or --token-file, or set {CURVE_ENV} on every process")
    return derived_curve_secret(token)


class CurveKeys:
    """A zmq CURVE key pair for optional encryption (``public``, ``secret``: Z85 bytes).

    Authentication is the token's job; CURVE adds encryption on untrusted
    networks.  A cluster shares one secret key (``GRAPHFLOW_CURVE_SECRET`` in
    every process, like the token): the scheduler and workers serve with it,
    and everyone connecting derives its public half and makes a throwaway
    key pair of its own.
    """

    __slots__ = ("public", "secret")

    def __init__(self, public: bytes, secret: bytes):
        self.public = public
        self.secret = secret

    @classmethod
    def generate(cls) -> "CurveKeys":
        """A new key pair."""
        import zmq

        if not zmq.has("curve"):  # pragma: no cover - libzmq built without libsodium
            raise ConfigError("this libzmq was built without CURVE support; encryption is unavailable")
        public, secret = zmq.curve_keypair()
        return cls(public, secret)
