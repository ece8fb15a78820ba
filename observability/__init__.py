from .sample_files import name_by_host

name_by_host()
