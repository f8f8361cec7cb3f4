"""The state machine screen: the screen, its .tcss and, where it has them, its rows and action choices."""
