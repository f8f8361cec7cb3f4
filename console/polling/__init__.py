"""The watcher's parts: who reads what, when, and how what was read becomes the published FleetState.

`console.watch.Watcher` composes them with one source per service of the registry (`console/services.py`:
`console.codepipeline.source`, `console.stepfunctions.source`, each with its poller); nothing outside the watcher
and the service packages imports from here except tests. None of these parts names a service: each keeps every
service's slots and pictures by service, and each service package narrows its own (its `slots.py`).

- `reader`: what the watcher reads through, whatever the service (one target's gateway, or a test double);
- `slots`: the per-resource and per-target bookkeeping the parts share (`Slot`, subclassed per service);
- `gate`: who reads next (priority, fair shares, the budget);
- `context`: what every part is given (intervals, schedule, publisher, the targets) and the poll loop;
- `publisher`: the model, target health and staleness, published whole with its transitions;
- `source`: what a service gives the watcher (`Source`: its listing, its loops started and ended, its warm seed
  and snapshot, its pushed events applied);
- `discovery`: each target listed, source after source, and its health recorded;
- `events_apply`: the order of pushed events and the marks of the last one applied per item;
- `rereads`: one read per resource however many events ask;
- `push_routing`: the push stream's readers, each event handed to the source of its service.
"""
