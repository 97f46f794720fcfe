"""The hardened-vps policy pack (CrossGuard). Policies live in `hardening_policies`; `__main__` serves them."""
