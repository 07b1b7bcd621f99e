"""The console's words, one module per desk (each a WORDS table, merged by gateway/console/messages.py)."""
