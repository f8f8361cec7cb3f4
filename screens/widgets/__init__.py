"""Widgets shared by the console's screens: the fleet header and the wave board."""
