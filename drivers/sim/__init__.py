"""What every simulator backend shares: a pseudo-terminal and a control channel.

A simulator is a process of its own, as the real device is: the unit talks
to it over the same link it would use on the board (a serial line on a pty,
a TCP socket, PC/SC), and a test or the demo steers it through its control
channel (``drivers.sim.control``).
"""
