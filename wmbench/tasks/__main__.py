"""``python -m wmbench.tasks [VERSION ...]``: regenerate the task-suite files (default: the latest)."""

from wmbench.tasks.generate import main

main()
