"""Stack configuration: the key schema, one validator per section, and the HostSpec they build.

schema.py      ConfigKey and CONFIG_KEYS: each key's type, default, allowed values, section and meaning
problems.py    ConfigError and the collector that reports every problem at once
host.py, ssh.py, tls.py, operations.py, data.py, app.py, lifecycle.py    one validator per section of keys
ssh_keys.py    the OpenSSH public-key parser
spec.py        HostSpec and parse_host_spec, which runs the sections
stack_file.py  reading stacks/Pulumi.<stack>.yaml as Pulumi hands its values to the program
"""

from components.config.app import AppSpec
from components.config.problems import ConfigError
from components.config.schema import (
    CONFIG_KEYS,
    DEFAULT_REGIONS,
    KEYS_BY_NAME,
    PROJECT,
    SECRET_PLACEHOLDER,
    ConfigKey,
    default_of,
    max_chars,
)
from components.config.spec import HostSpec, parse_host_spec, plain_secret_keys
from components.config.ssh_keys import MIN_RSA_BITS, SSH_KEY_TYPES, SshKey, parse_ssh_key
from components.config.stack_file import (
    PROJECT_DIR,
    StackFileError,
    load_stack_file,
    read_stack_document,
    stack_config_values,
    stack_name_of,
)
from components.config.tls import acme_directory_problem, is_valid_domain, is_valid_email

__all__ = [
    "CONFIG_KEYS", "DEFAULT_REGIONS", "KEYS_BY_NAME", "MIN_RSA_BITS", "PROJECT", "PROJECT_DIR", "SECRET_PLACEHOLDER",
    "SSH_KEY_TYPES", "AppSpec", "ConfigError", "ConfigKey", "HostSpec", "SshKey", "StackFileError",
    "acme_directory_problem", "default_of", "is_valid_domain", "is_valid_email", "load_stack_file", "max_chars",
    "parse_host_spec", "parse_ssh_key", "plain_secret_keys", "read_stack_document", "stack_config_values",
    "stack_name_of",
]
