"""The console: pages for people, over the public API (issue #19)."""
