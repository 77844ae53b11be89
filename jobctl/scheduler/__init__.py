"""The scheduler: leadership, claiming due slots, and running what was claimed."""
