"""The data section: volume size within the vendor's limits, the database needs the volume, backup bucket set."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config

RECIPIENT = "age1" + "q" * 58
KEYS = {"backupAccessKeyId": "AKIDEXAMPLE", "backupSecretAccessKey": "example-secret"}


def test_defaults_are_no_volume_no_database_seven_generations() -> None:
    spec = parse_host_spec(raw_config())
    assert (spec.data_volume_gb, spec.has_data_volume, spec.keep_data_volume, spec.database,
            spec.backup_generations, spec.backup_bucket) == (0, False, True, "none", 7, None)


@pytest.mark.parametrize(("vendor", "low", "high"), [("digitalocean", 1, 16384), ("linode", 10, 10000),
                                                      ("lightsail", 8, 16384)])
def test_volume_size_is_within_the_vendors_limits(vendor: str, low: int, high: int) -> None:
    assert parse_host_spec(raw_config(vendor=vendor, dataVolumeGb=str(low))).data_volume_gb == low
    assert parse_host_spec(raw_config(vendor=vendor, dataVolumeGb=str(high))).data_volume_gb == high
    if low > 1:
        assert problems(vendor=vendor, dataVolumeGb=str(low - 1)) == [
            f"hardened-vps:dataVolumeGb: {low - 1} is out of {vendor}'s volume sizes; allowed: 0 (no volume) or "
            f"{low} to {high}"]
    if high < 16384:
        assert problems(vendor=vendor, dataVolumeGb=str(high + 1))[0].startswith(
            f"hardened-vps:dataVolumeGb: {high + 1} is out of {vendor}'s volume sizes")


@pytest.mark.parametrize(("value", "why"), [("-5", "-5 is out of range; allowed: 0 to 16384"),
                                            ("lots", "'lots' is not a whole number; allowed: 0 to 16384"),
                                            ("20000", "20000 is out of range; allowed: 0 to 16384")])
def test_volume_size_is_a_bounded_whole_number(value: str, why: str) -> None:
    assert problems(dataVolumeGb=value) == [f"hardened-vps:dataVolumeGb: {why}"]


def test_unknown_database_is_refused_naming_the_choices() -> None:
    assert problems(database="mysql", dataVolumeGb="10") == [
        "hardened-vps:database: 'mysql' is not a database this project sets up; allowed: none, postgresql"]


def test_database_needs_the_volume() -> None:
    (msg,) = problems(database="postgresql")
    assert msg.startswith("hardened-vps:database: postgresql needs the data volume") and "dataVolumeGb" in msg
    assert parse_host_spec(raw_config(database="postgresql", dataVolumeGb="10")).database == "postgresql"


def test_a_bucket_needs_endpoint_recipient_and_the_volume() -> None:
    assert sorted(problems(backupBucket="my-backups", **KEYS)) == [
        "hardened-vps:backupBucket: backups are taken on the data volume; set dataVolumeGb (e.g. 10)",
        "hardened-vps:backupEndpoint: missing; required when backupBucket is set",
        "hardened-vps:backupRecipient: missing; required when backupBucket is set"]
    spec = parse_host_spec(raw_config(dataVolumeGb="10", backupBucket="my-backups",
                                      backupEndpoint="https://fra1.digitaloceanspaces.com",
                                      backupRecipient=RECIPIENT, **KEYS))
    assert (spec.backup_bucket, spec.backup_endpoint, spec.backup_recipient) == (
        "my-backups", "https://fra1.digitaloceanspaces.com", RECIPIENT)


@pytest.mark.parametrize(("key", "value"), [("backupBucket", "My_Bucket"), ("backupBucket", "a;rm -rf /"),
                                            ("backupEndpoint", "http://fra1.digitaloceanspaces.com"),
                                            ("backupEndpoint", "https://x.example.com/$(id)"),
                                            ("backupRecipient", "age1short"),
                                            ("backupRecipient", "ssh-ed25519 AAAA")])
def test_hostile_or_malformed_backup_values_are_refused(key: str, value: str) -> None:
    full = dict(dataVolumeGb="10", backupBucket="my-backups", backupEndpoint="https://fra1.digitaloceanspaces.com",
                backupRecipient=RECIPIENT, **KEYS)
    full[key] = value
    assert any(p.startswith(f"hardened-vps:{key}: {value!r} is not valid; allowed:") for p in problems(**full))


def test_endpoint_or_recipient_without_a_bucket_is_refused() -> None:
    assert problems(dataVolumeGb="10", backupRecipient=RECIPIENT) == [
        "hardened-vps:backupBucket: missing; backupEndpoint, backupRecipient and the backup keys are only used "
        "with a bucket"]
    assert problems(dataVolumeGb="10", backupAccessKeyId="AKID") == [
        "hardened-vps:backupBucket: missing; backupEndpoint, backupRecipient and the backup keys are only used "
        "with a bucket"]


def test_a_bucket_needs_both_keys() -> None:
    bucket = dict(dataVolumeGb="10", backupBucket="my-backups", backupEndpoint="https://fra1.digitaloceanspaces.com",
                  backupRecipient=RECIPIENT)
    assert problems(**bucket, backupAccessKeyId="AKID") == [
        "hardened-vps:backupSecretAccessKey: missing; required when backupBucket is set: pulumi config set --secret "
        "hardened-vps:backupSecretAccessKey ..."]
    assert len(problems(**bucket)) == 2
    assert parse_host_spec(raw_config(**bucket, **KEYS)).backup_bucket == "my-backups"


def test_generations_are_bounded() -> None:
    assert parse_host_spec(raw_config(backupGenerations="30")).backup_generations == 30
    assert problems(backupGenerations="0") == ["hardened-vps:backupGenerations: 0 is out of range; allowed: 1 to 90"]


@pytest.mark.parametrize(("vendor", "longest"), [("linode", 32), ("digitalocean", 64)])
def test_a_host_name_too_long_to_name_the_volume_is_refused_with_a_volume(vendor: str, longest: int) -> None:
    fits = "h" + "x" * (longest - len("-data") - 1)
    assert parse_host_spec(raw_config(vendor=vendor, hostName=fits, dataVolumeGb="10")).data_volume_name == \
        fits + "-data"
    too_long = fits + "y"
    assert problems(vendor=vendor, hostName=too_long, dataVolumeGb="10") == [
        f"hardened-vps:dataVolumeGb: the data volume would be named {too_long + '-data'!r}, longer than {vendor}'s "
        f"volume names (up to {longest} characters); allowed with a data volume: a host name of up to {longest - 5} "
        "characters"]
    assert parse_host_spec(raw_config(vendor=vendor, hostName=too_long)).host_name == too_long  # no volume: fine
