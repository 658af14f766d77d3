"""Where untrusted code runs.

``emulator`` runs single functions in Unicorn with no access to the host at all; whole-program
sandboxes (qemu-user, processes under bubblewrap, Docker) come with the issues that need them.
"""
