"""Package data of nndesk: example networks and other files read at run time."""
