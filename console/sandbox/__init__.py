"""The embedded AWS: moto in server mode plus what it lacks for this product.

Only this package (and `console/aws`) may import botocore; only this package imports moto. The console
core never imports it: the sandbox runs in its own process (`wavedeck sandbox`, or a child started by
`--sandbox`), reached over HTTP like any AWS endpoint.
"""
