"""The only public door: authenticate, authorise by role, sign the caller's identity for the services, audit, proxy."""
