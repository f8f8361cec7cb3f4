"""Fails loudly, naming what moved, when a Textual release changes the private APIs the screens use.

The screens reach into Textual where its public API costs too much or says too little (each line below says
where and why). Textual is pinned to a minor release; when this fails after an upgrade: read the named Textual
code, find what replaced it, and change the screen that uses it (or go back to the public API).
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

from textual.app import App, ComposeResult
from textual.binding import BindingsMap
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widgets import Static

# (owner, name, what it must be, where we use it)
METHODS: tuple[tuple[type, str, tuple[str, ...], str], ...] = (
    (
        App,
        "_check_action_state",
        ("self", "action", "default_namespace"),
        "screens/base.py ConsoleScreen.active_binding, screens/help/screen.py: a key's availability",
    ),
    (
        ScrollView,
        "_scroll_update",
        ("self", "virtual_size"),
        "screens/widgets/keyed_list.py KeyedList._update_virtual_size: redraw only the scrollbar's thumb",
    ),
)
PROPERTIES: tuple[tuple[type, str, str], ...] = (
    (
        Screen,
        "_modal_binding_chain",
        "screens/base.py ConsoleScreen.active_binding, screens/help/screen.py: the bindings a key can reach",
    ),
)
# Set by Textual on every mounted screen: (name, type, where we use it).
ATTRIBUTES: tuple[tuple[str, type, str], ...] = (
    ("_closing", bool, "screens/base.py ConsoleScreen.is_closing"),
    ("_closed", bool, "screens/base.py ConsoleScreen.is_closing"),
    ("_pruning", bool, "screens/base.py ConsoleScreen.is_closing"),
    ("_bindings", BindingsMap, "screens/base.py ConsoleScreen.refresh_availability (key_to_bindings)"),
)


def moved_methods(methods: tuple[tuple[type, str, tuple[str, ...], str], ...] = METHODS) -> list[str]:
    problems = []
    for owner, name, parameters, where in methods:
        found = inspect.getattr_static(owner, name, None)
        if not callable(found):
            problems.append(f"{owner.__qualname__}.{name} is gone (used by {where})")
            continue
        have = tuple(inspect.signature(found).parameters)
        if have != parameters:
            problems.append(f"{owner.__qualname__}.{name} takes {have}, not {parameters} (used by {where})")
    for owner, name, where in PROPERTIES:
        if not isinstance(inspect.getattr_static(owner, name, None), property):
            problems.append(f"{owner.__qualname__}.{name} is no longer a property (used by {where})")
    return problems


class _Probe(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("probe")


def test_the_private_methods_the_screens_call_are_where_they_were() -> None:
    moved = moved_methods()
    assert not moved, "Textual's private APIs moved:\n" + "\n".join(moved)


async def test_a_mounted_screen_has_the_private_attributes_the_screens_read() -> None:
    app = _Probe()
    async with app.run_test() as pilot:
        screen = pilot.app.screen
        problems = [
            f"Screen.{name} is gone or no longer a {kind.__name__} (used by {where})"
            for name, kind, where in ATTRIBUTES
            if not isinstance(getattr(screen, name, None), kind)
        ]
        chain = screen._modal_binding_chain
        if not all(isinstance(bindings, BindingsMap) for _namespace, bindings in chain):
            problems.append("Screen._modal_binding_chain no longer yields (namespace, BindingsMap) pairs")
        if app._check_action_state("quit", app) is not True:
            problems.append("App._check_action_state no longer answers True for an available action")
    assert not problems, "Textual's private APIs moved:\n" + "\n".join(problems)


def test_textual_is_the_minor_release_the_screens_were_written_for() -> None:
    major, minor, *_ = version("textual").split(".")
    assert (major, minor) == ("8", "2"), f"textual {version('textual')}: re-check the private APIs listed here"


def test_the_check_names_what_moved() -> None:
    # The check itself must be able to fail: a method that does not exist is reported by name and user.
    fake = ((ScrollView, "_no_such_method", ("self",), "a test"),)
    assert moved_methods(fake) == ["ScrollView._no_such_method is gone (used by a test)"]
