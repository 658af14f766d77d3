"""Where untrusted code runs.

``emulator`` runs single functions in Unicorn with no access to the host at all; ``process``
runs whole programs (a port's own tests under qemu-user, kernel candidates) under bubblewrap
and prlimit; ``docker`` runs the same programs in a Docker container, through the Docker SDK.
"""
