"""Widgets shared by the console's screens: the keyed list every list of rows is, the filter bar, the key bar,
the fleet header, the wave board and the payload viewer."""
