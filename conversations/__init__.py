"""
The conversation records (assistants, threads, messages, runs, run steps), the services that write
them, the selectors that read them, and the Assistants-compatible API over them.
"""
