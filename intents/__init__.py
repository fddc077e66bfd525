"""Intent declarations: the single registry plus the input/output models of every intent.

Pure pydantic: importable from the gateway, workflows (through imports_passed_through) and activities.
"""
