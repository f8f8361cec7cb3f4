"""moto's list of a response class's methods, made once per class instead of once per request.

`BaseResponse.call_action` asks `method_names_from_class(self.__class__)` on every request, which is
`inspect.getmembers` over the whole class: a few hundred attribute reads and a sort, 27 µs, a few percent of
what the sandbox spends on a request. The methods of a response class do not change once the sandbox's
patches are in, so the server installs this after the last of them.
"""

from __future__ import annotations

from typing import Any

from moto.core import responses as moto_responses

# moto's responses module: `method_names_from_class` is an imported name there, not an export.
responses: Any = moto_responses

_moto_method_names = responses.method_names_from_class
_names: dict[Any, list[str]] = {}


def method_names_from_class(clazz: object) -> list[str]:
    """moto's answer for `clazz`, worked out at its first request."""
    names = _names.get(clazz)
    if names is None:
        names = _names[clazz] = _moto_method_names(clazz)
    return names


def install() -> None:
    """Call after every patch that adds or replaces a method of a moto response class."""
    responses.method_names_from_class = method_names_from_class
