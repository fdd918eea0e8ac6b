"""Example apps; ``examples.demo:app`` is what ``make run`` serves."""
