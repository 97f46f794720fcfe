"""Models of what the real Pulumi engine, pulumi-command and the vendors' providers do that mocks do not.

Each test module here names the CLI or provider behaviour it models and the upstream source file it was read
from (pulumi/pulumi, pulumi/pulumi-command, the Terraform providers behind the vendor SDKs). A defect that only
the real engine would show must fail one of these tests.
"""
