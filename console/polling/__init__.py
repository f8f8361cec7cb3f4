"""The watcher's parts: who reads what, when, and how what was read becomes the published FleetState.

`console.watch.Watcher` composes them with one source per service of the registry (`console/services.py`:
`console.codepipeline.source`, `console.stepfunctions.source`, each with its poller); nothing outside the watcher
and the service packages imports from here except tests.

- `reader`: what the watcher reads through (one target's gateway, or a test double);
- `slots`: the per-resource and per-target bookkeeping the parts share;
- `gate`: who reads next (priority, fair shares, the budget);
- `context`: what every part is given (intervals, schedule, publisher, the targets) and the poll loop;
- `publisher`: the model, target health and staleness, published whole with its transitions;
- `source`: what a service gives the watcher (`Source`: its listing, its loops started and ended, its warm seed);
- `discovery`: each target listed, source after source, and its health recorded;
- `history`: the history follower (incremental GetExecutionHistory, the execution shown in detail);
- `push_routing`: the push stream's readers, and which loop each event wakes.
"""
