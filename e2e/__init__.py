"""Real-VM end-to-end proof of the first-boot data. `python -m e2e` lists the scenarios; see e2e/README.md."""
