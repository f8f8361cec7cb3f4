"""Fails loudly, naming what moved, when a moto release changes what the event delivery patches replace.

`console/sandbox/moto_patches/delivery_internals.py` lists every class, method, parameter and attribute that
`moto_events_patch` and `moto_sqs_patch` plug into, and the source fingerprint of every moto method they
replace wholesale. When this fails after a moto upgrade: read the named moto code, port its change into the
replacement, then record the new fingerprint.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from console.sandbox.moto_patches import delivery_internals as internals


def test_every_touch_point_is_where_the_patches_expect_it() -> None:
    moved = internals.moved()
    assert not moved, "moto's EventBridge / SQS internals moved:\n" + "\n".join(moved)


def test_the_replaced_moto_methods_are_the_ones_the_patches_were_ported_from() -> None:
    changed = internals.changed_sources()
    assert not changed, (
        "moto changed methods the event delivery patches replace; port the change, then update REPLACED_SOURCES:\n"
        + "\n".join(changed)
    )


def test_moto_is_the_minor_release_the_patches_were_written_for() -> None:
    major, minor, *_ = version("moto").split(".")
    assert (major, minor) == ("5", "2"), f"moto {version('moto')}: re-check the event delivery patches"


def test_the_checks_name_what_moved_and_what_changed() -> None:
    # The checks themselves must be able to fail.
    gone = ("moto.sqs.models", "Queue.no_such_method", ())
    renamed = ("moto.sqs.models", "Queue.delete_message", ("no_such_parameter",))
    touch_points, sources = internals.TOUCH_POINTS, internals.REPLACED_SOURCES
    try:
        internals.TOUCH_POINTS = (*touch_points, gone, renamed)
        internals.REPLACED_SOURCES = {**sources, ("moto.sqs.models", "Queue.add_message"): "0000000000000000"}
        moved = internals.moved()
        changed = internals.changed_sources()
    finally:
        internals.TOUCH_POINTS, internals.REPLACED_SOURCES = touch_points, sources
    assert len(moved) == 2
    assert "moto.sqs.models.Queue.no_such_method is gone" in moved[0]
    assert "Queue.delete_message no longer takes no_such_parameter" in moved[1]
    assert len(changed) == 1
    assert "Queue.add_message: source fingerprint" in changed[0]


def test_the_originals_stay_reachable_once_the_patches_are_in() -> None:
    # Importing the events module installs the patches; the checks above must still see moto's own code.
    from moto.events.utils import EventTemplateParser

    from console.sandbox import events
    from console.sandbox.moto_patches import events_patch as moto_events_patch

    assert not events.install_delivery_patches()
    assert EventTemplateParser.parse is moto_events_patch.parse
    assert internals.original("moto.events.utils", "EventTemplateParser.parse") is not None
    assert not internals.changed_sources()


def test_the_patches_can_be_switched_off_for_a_before_and_after_benchmark() -> None:
    probe = (
        "import console.sandbox.events as e\n"
        "from moto.events.utils import EventTemplateParser as P\n"
        "from moto.sqs.models import Queue\n"
        "print(P.parse.__module__, Queue.delete_message.__module__)\n"
    )
    on = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    off = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"WAVEDECK_SANDBOX_EVENT_PATCHES": "off", "PATH": ""},
    )
    assert on.stdout.split() == ["console.sandbox.moto_patches.events_patch", "console.sandbox.moto_patches.sqs_patch"]
    assert off.stdout.split() == ["moto.events.utils", "moto.sqs.models"]
