"""The command groups of `wuzhuan`, one module each; cli.py adds them to the entry point."""
