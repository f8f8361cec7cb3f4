"""The patches into moto's internals (event delivery, SQS) and the touch points they rely on."""
