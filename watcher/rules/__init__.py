"""Rule files coordinators edit: enterprise profiles, thresholds, requirement phrases.

Each file kind has its own module with a strict schema; errors are file:line: field: message."""

from .enterprises import check_rules, load_enterprise, load_enterprises
from .requirements import RequirementRules, check_requirement_rules, load_requirement_rules
from .thresholds import Thresholds, load_thresholds

__all__ = ["RequirementRules", "Thresholds", "check_requirement_rules", "check_rules", "load_enterprise",
           "load_enterprises", "load_requirement_rules", "load_thresholds"]
