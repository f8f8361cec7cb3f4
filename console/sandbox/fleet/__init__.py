"""The sandbox's fleet format: `definitions/fleet.yaml`, `pipelines/` (AWS's own declarations) and
`state-machines/` (YAML-ASL), loaded and validated into what the sandbox seeds and runs (README "Definitions").

Only the sandbox and the entry point read it: on a real account the console takes its wave model from the
waves file and its state machines' waves and rollbacks from the config (console/waves.py, console/config.py).
"""
