"""The wuzhuan engine: templates → validated definitions → state machines → store → sweep → delivery."""
