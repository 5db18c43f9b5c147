"""watcher: find public contracts that Québec social-economy enterprises can realistically win."""

__version__ = "0.1.0"
