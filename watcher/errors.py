"""One error hierarchy. Each error carries a hint, so the CLI can print one clear line and exit 1."""

from __future__ import annotations

from datetime import datetime


class WatcherError(Exception):
    """Base of every error the user should see as one line (plus a hint), never as a traceback."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.args[0]


class ConfigError(WatcherError):
    """config.toml is missing, unreadable or has a bad key/value."""

    hint = "vérifiez config.toml (voir config.example.toml) / check config.toml (see config.example.toml)"


class RuleError(WatcherError):
    """One problem in one rule file, located as file:line: field: message."""

    hint = "corrigez le fichier de règles indiqué / fix the rule file named above"

    def __init__(self, file: str, line: int | None, field: str | None, message: str) -> None:
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line else file
        text = f"{where}: {field}: {message}" if field else f"{where}: {message}"
        super().__init__(text)


class RuleErrors(WatcherError):
    """Several rule problems, reported together so a coordinator fixes them in one pass."""

    hint = RuleError.hint

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ParseError(WatcherError):
    """A source file or record could not be read; names the file and the position."""

    hint = "le fichier est peut-être tronqué ou d'un autre format / the file may be truncated or of another format"

    def __init__(self, file: str, position: str | int | None, message: str, *, fatal: bool = False) -> None:
        # fatal: the file as a whole cannot be trusted (malformed, truncated, not this format);
        # otherwise one record was skipped or kept with a warning and the rest of the file is good.
        self.file, self.position, self.message, self.fatal = file, position, message, fatal
        where = f"{file}:{position}" if position not in (None, "") else file
        super().__init__(f"{where}: {message}")


class StoreError(WatcherError):
    """The database cannot be reached or migrated."""

    hint = "vérifiez [database] url dans config.toml / check [database] url in config.toml"


class DeliveryError(WatcherError):
    """A digest could not be delivered (SMTP refused, outbox not writable)."""

    hint = "vérifiez [delivery] dans config.toml (hôte, port, identifiants) / check [delivery] smtp host, port and credentials"

    def __init__(self, message: str, permanent: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.permanent = permanent


class FetchError(WatcherError):
    """A source could not be fetched (network, HTTP status, size cap, robots.txt); names the URL.

    `transient` tells the scheduler whether trying again later may help; `retry_at` (UTC) is when
    the server asked us to come back, if it said so.
    """

    hint = "la source est peut-être indisponible; réessayez plus tard / the source may be down; try again later"

    def __init__(
        self, url: str, message: str, hint: str | None = None, *,
        status: int | None = None, transient: bool = True, retry_at: datetime | None = None,
    ) -> None:
        self.url, self.message, self.status = url, message, status
        self.transient, self.retry_at = transient, retry_at
        super().__init__(f"{url}: {message}", hint)
