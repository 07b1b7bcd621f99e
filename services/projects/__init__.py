"""Projects: the county project library with announcements, objections and the negative list (P1–P7)."""
