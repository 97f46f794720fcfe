"""Real-VM end-to-end proof of the first-boot data. See e2e/README or e2e/run.py."""
