"""Test support: run the program or a component against Pulumi's mocks. The Pulumi program never imports this."""
