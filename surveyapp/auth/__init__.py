"""Users, roles, sign-in, invitations and permissions."""
