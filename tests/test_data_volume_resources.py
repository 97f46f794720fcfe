"""The data volume on each vendor: sized and placed by config, attached to this server, kept by default, and kept
(not replaced) when the server is rebuilt, while the attachment follows the new server."""

from __future__ import annotations

import pytest

from components import catalog, changes
from components.testing.mockrun import RecordedResource, run_program
from policy.offline import Registered, StackCase, run_case
from tests.adapters_support import REGIONS, build, sized
from tests.conftest import full_config

#: vendor -> (volume type, attachment type or None where the volume carries its own attachment).
VOLUME_TYPES = {
    "digitalocean": ("digitalocean:index/volume:Volume", "digitalocean:index/volumeAttachment:VolumeAttachment"),
    "linode": ("linode:index/volume:Volume", None),
    "lightsail": ("aws:lightsail/disk:Disk", "aws:lightsail/disk_attachment:Disk_attachment"),
    "vultr": ("vultr:index/blockStorage:BlockStorage", None),
    "hetzner": ("hcloud:index/volume:Volume", "hcloud:index/volumeAttachment:VolumeAttachment"),
}
SIZE_INPUT = {"digitalocean": "size", "linode": "size", "lightsail": "sizeInGb", "vultr": "sizeGb", "hetzner": "size"}
NAME_INPUT = {"digitalocean": "name", "linode": "label", "lightsail": "name", "vultr": "label", "hetzner": "name"}
#: The input of the attachment (or of Linode's volume) that names the server, and what of the server it holds.
SERVER_REF = {"digitalocean": ("dropletId", "id"), "linode": ("linodeId", "id"), "lightsail": ("instanceName", "name"),
              "vultr": ("attachedToInstance", "id"), "hetzner": ("serverId", "id")}


def _attached_to(vendor: str, attachment: RecordedResource, server: RecordedResource) -> bool:
    field, of_server = SERVER_REF[vendor]
    if of_server == "name":
        return bool(attachment.inputs[field] == server.inputs["name"])
    return int(float(attachment.inputs[field])) == int(server.id)  # a number, or the id's text (Vultr)


@pytest.mark.parametrize("vendor", catalog.VENDORS)
def test_the_volume_has_its_size_region_and_name_and_is_attached_to_this_server(vendor: str) -> None:
    host, options, run = build(vendor, dataVolumeGb=40, hostName="shop-1")
    volume_type, attachment_type = VOLUME_TYPES[vendor]
    volume = run.one(volume_type)
    server = next(r for r in run.resources if r.type in changes.SERVER_INPUTS)
    assert volume.inputs[SIZE_INPUT[vendor]] == 40
    assert volume.inputs[NAME_INPUT[vendor]] == "shop-1-data" == host.spec.data_volume_name
    if vendor == "lightsail":  # a disk attaches only to an instance in its own zone
        assert volume.inputs["availabilityZone"] == server.inputs["availabilityZone"] == f"{REGIONS[vendor]}a"
    else:
        where = "location" if vendor == "hetzner" else "region"
        assert volume.inputs[where] == server.inputs[where] == REGIONS[vendor]
    assert "initialFilesystemType" not in volume.inputs  # first boot formats only a blank volume
    if attachment_type is None:
        assert host.data_volume_attachment is None
        assert _attached_to(vendor, volume, server)
    else:
        attachment = run.one(attachment_type)
        assert _attached_to(vendor, attachment, server)
        if vendor == "lightsail":
            assert attachment.inputs["diskName"] == volume.inputs["name"]
            assert attachment.inputs["diskPath"] == host.spec.data_volume_devices[0]
        else:
            assert str(attachment.inputs["volumeId"]).removesuffix(".0") == volume.id  # Hetzner: a number
        # A volume attaches to one server at a time: a new attachment may only come once the old one is gone.
        assert options["web-data-attachment"].delete_before_replace is True
        assert options["web-data-attachment"].parent is host
    assert options["web-data"].parent is host


@pytest.mark.parametrize("vendor", catalog.VENDORS)
@pytest.mark.parametrize("keep", [True, False])
def test_the_volume_is_protected_and_retained_unless_keep_data_volume_is_false(vendor: str, keep: bool) -> None:
    _, options, _ = build(vendor, dataVolumeGb=20, keepDataVolume=keep)
    assert options["web-data"].protect is keep
    assert options["web-data"].retain_on_delete is keep


@pytest.mark.parametrize("vendor", catalog.VENDORS)
def test_no_volume_resources_without_data_volume_gb(vendor: str) -> None:
    host, options, run = build(vendor)
    assert host.data_volume is None and host.data_volume_attachment is None
    assert not [r for r in run.resources if r.type in VOLUME_TYPES[vendor]]
    assert not [n for n in options if n.startswith("web-data")]


@pytest.mark.parametrize("vendor", catalog.VENDORS)
def test_data_volume_id_is_an_output_and_none_without_a_volume(vendor: str) -> None:
    with_volume = run_program(full_config(vendor=vendor, region=REGIONS[vendor], **sized(vendor), dataVolumeGb=20),
                              stack="unit")
    volume_type, _ = VOLUME_TYPES[vendor]
    assert with_volume.outputs["dataVolumeId"] == with_volume.one(volume_type).id
    without = run_program(full_config(vendor=vendor, region=REGIONS[vendor], **sized(vendor)), stack="unit")
    assert "dataVolumeId" in without.outputs and without.outputs["dataVolumeId"] is None


def _server(case: StackCase) -> Registered:
    return next(r for r in case.resources if r.type in changes.SERVER_INPUTS)


@pytest.mark.parametrize("vendor", catalog.VENDORS)
def test_a_rebuilt_server_keeps_the_volume_and_the_attachment_follows_it(vendor: str) -> None:
    """reprovision with a first-boot change replaces the server (a ForceNew input changes); the volume keeps its
    URN and every input, and what attaches it reads the server, so the engine moves it to the new server."""
    base = dict(vendor=vendor, region=REGIONS[vendor], **sized(vendor), dataVolumeGb=20, reprovision=True)
    _, before = run_case(full_config(**base), stack="unit")
    _, after = run_case(full_config(**base, swapSizeMb=2048), stack="unit")
    old, new = _server(before), _server(after)
    forced = {k for k in changes.SERVER_INPUTS[old.type].inputs if old.inputs.get(k) != new.inputs.get(k)}
    assert forced, "the server is not replaced: the test would witness nothing"

    volume_type, attachment_type = VOLUME_TYPES[vendor]
    volume_before, volume_after = before.one(volume_type), after.one(volume_type)
    assert volume_after.urn == volume_before.urn
    assert volume_after.inputs == volume_before.inputs
    field, _ = SERVER_REF[vendor]
    assert new.urn not in [u for k, us in volume_after.property_dependencies.items() if k != field for u in us]

    follower = volume_after if attachment_type is None else after.one(attachment_type)
    assert new.urn in follower.property_dependencies[field]
