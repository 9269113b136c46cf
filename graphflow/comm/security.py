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
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import ConfigError

__all__ = ["CURVE_ENV", "ENV_VAR", "default_token_path", "new_token", "token_from_env", "load_token", "CurveKeys"]

ENV_VAR = "GRAPHFLOW_TOKEN"
CURVE_ENV = "GRAPHFLOW_CURVE_SECRET"  # the same name graphflow.comm.transport reads


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
