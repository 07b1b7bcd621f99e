"""Registry: the roster of registered poor households (建档立卡)."""
