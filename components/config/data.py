"""The data section: the volume that outlives the server, the app's database on it, and its backups.

A volume's size limits are the vendor's (components/vendors/<name>); a database needs the volume (it lives there so
a replaced server finds it again), and off-host copies need their whole set: bucket, endpoint, recipient.
"""

from __future__ import annotations

from typing import Any

from components import catalog
from components.config.problems import Collector
from components.config.schema import KEYS_BY_NAME

NO_DATABASE = KEYS_BY_NAME["database"].choices[0]  # "none"
VOLUME_SUFFIX = "-data"  # the data volume is named <hostName>-data at the vendor


def validate(c: Collector, vendor: str | None, host_name: str) -> dict[str, Any]:
    """HostSpec's data fields: volume size (0: none), whether it is kept, database, backup generations and bucket."""
    size = c.integer("dataVolumeGb")
    if vendor is not None and vendor in catalog.CATALOG and size and not c.has_problem("dataVolumeGb"):
        low, high = catalog.vendor(vendor).volume_gb_range
        if not low <= size <= high:
            c.fail("dataVolumeGb", f"{size} is out of {vendor}'s volume sizes; allowed: 0 (no volume) or "
                                   f"{low} to {high}")
        longest, name = catalog.vendor(vendor).volume_name_max, host_name + VOLUME_SUFFIX
        if len(name) > longest:
            c.fail("dataVolumeGb", f"the data volume would be named {name!r}, longer than {vendor}'s volume names "
                                   f"(up to {longest} characters); allowed with a data volume: a host name of up to "
                                   f"{longest - len(VOLUME_SUFFIX)} characters")
    database = c.text("database")
    choices = KEYS_BY_NAME["database"].choices
    if database not in choices:
        c.fail("database", f"{database!r} is not a database this project sets up; allowed: {', '.join(choices)}")
    elif database != NO_DATABASE and size == 0 and not c.has_problem("dataVolumeGb"):
        c.fail("database", f"{database} needs the data volume, so a replaced server keeps it; set dataVolumeGb "
                           "(e.g. 10)")
    bucket, endpoint, recipient = (c.string(k) for k in ("backupBucket", "backupEndpoint", "backupRecipient"))
    for key, value, shape in (("backupBucket", bucket, "3-63 lowercase letters, digits, dots, hyphens"),
                              ("backupEndpoint", endpoint, "an https:// host name, optionally :port"),
                              ("backupRecipient", recipient, "an age public key, age1 and 58 characters")):
        if value is not None and not KEYS_BY_NAME[key].matches(value):
            c.fail(key, f"{value!r} is not valid; allowed: {shape}")
    if bucket is not None:
        for key, value in (("backupEndpoint", endpoint), ("backupRecipient", recipient)):
            if value is None:
                c.fail(key, "missing; required when backupBucket is set")
        if size == 0 and not c.has_problem("dataVolumeGb"):
            c.fail("backupBucket", "backups are taken on the data volume; set dataVolumeGb (e.g. 10)")
        for key in ("backupAccessKeyId", "backupSecretAccessKey"):
            if not c.raw.get(key):
                c.fail(key, "missing; required when backupBucket is set: pulumi config set --secret "
                            f"hardened-vps:{key} ...")
    elif endpoint is not None or recipient is not None or any(
            c.raw.get(k) for k in ("backupAccessKeyId", "backupSecretAccessKey")):
        c.fail("backupBucket", "missing; backupEndpoint, backupRecipient and the backup keys are only used with a "
                               "bucket")
    return dict(data_volume_gb=size, keep_data_volume=c.boolean("keepDataVolume"), database=database,
                backup_generations=c.integer("backupGenerations"), backup_bucket=bucket, backup_endpoint=endpoint,
                backup_recipient=recipient)
