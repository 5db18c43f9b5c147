"""Rule files coordinators edit: enterprise profiles (and, later, thresholds and requirement phrases).

Each file kind has its own module with a declarative schema; errors are file:line: field: message."""

from .enterprises import check_rules, load_enterprise, load_enterprises

__all__ = ["check_rules", "load_enterprise", "load_enterprises"]
