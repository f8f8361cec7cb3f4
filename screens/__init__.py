"""The console's screens and the UI foundation they share. Screens read the watcher's picture and act only
through the action gate; they never talk to AWS (tests/test_layers.py checks it).

Adding a screen
    Subclass `screens.base.ConsoleScreen` (or `screens.action_flow.ActionScreen` when its selection can be
    acted on). Yield `self.header()` first in `compose` and `screens.widgets.key_bar.KeyBar()` last (one line
    of keys, greyed when unavailable; Textual's Footer rebuilds a widget per key on every availability
    change, which costs tens of milliseconds per cursor move); set widgets up in `on_mount` (the base draws the first
    picture right after); implement `show_state(state)` (called with every new `FleetState` while the screen
    is shown, on top or under a modal, and on resume; update only what changed), `visible_keys()` (the
    Pipeline/StateMachine keys on screen; call `self.tell_watcher_what_is_visible()` when they change),
    `on_tick(state, now)` for clock-dependent cells, and `why_unavailable(action)` for keys that make no sense
    now (the key is greyed out and pressing it says why). One .tcss beside the module, every rule nested under
    the screen's class. Register it with one line: a screen that shows a resource of a source of deployments in
    that source's `screens` (screens/fleet/views.py; open it with `OpenRequested(KeyRef(name, key))`), a screen
    that a key reaches from anywhere in console/app.py `SECTION_SCREENS` (its key in console/keys.py).

Services
    `self.ctx` (`screens.context.ConsoleContext`): `watcher`, `gate`, `targets`, `waves`, `now()`, `state` (the
    picture on screen), `transitions` (`TransitionLog`: every transition in a bounded window; read new ones
    with `since(seq)` when `FleetUpdated` arrives), `registry` (the screens by name), `views` (the sources of
    deployments: `opens(service, ...)` says what enter opens for an approval or a transition), `read_only_reason`.

Keys
    `screens.bindings.binding(id, action)` builds a binding from console/keys.py (stable id, remappable with
    `keymap:`, full description in help and the palette, a short label in the footer). Help (F1, ?) and the
    command palette list every binding of the current screen automatically.

Actions
    `ActionScreen.action_choices(binding_id)` returns `Choices`: one `ActionChoice(kind, selection, label)` per
    thing the key could mean for the selection. The rest is shared (`screens.action_flow`): availability from
    `gate.availability`, a chooser when there are several, `gate.plan` in a worker, `ConfirmActionModal`,
    `gate.execute`, the notification with AWS's request id, and a watcher refresh of the resource.

Showing things
    `screens.status.look(status)` → glyph + word + tone (never colour alone); `screens.text.literal(text)` /
    `clean(text)` for anything from AWS (never markup, no control characters); `screens.timefmt` for ages;
    `screens.widgets.wave_board` (`wave_cells`, `WaveBoard`) for waves.

Tests
    tests/ui/conftest.py: `console_app(...)` builds the app on a fixed picture (`fleet_picture()`, fixed clock)
    with `FakeWatcher` (`publish(state, transitions)`) and `FakeGate` (the real `availability`, scripted
    `plan`/`execute`); `wait_for(pilot, condition)` instead of sleeping; `rendered(app)` for what the terminal
    shows; `stand_in_registry()` for snapshots; tests/ui/test_fleet_sandbox.py shows the real watcher and gate
    against the session sandbox.
"""
