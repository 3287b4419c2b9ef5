"""Identity providers per agency: single sign-on with OpenID Connect (Authlib), the users'
links to a provider's subject, just-in-time provisioning and the session's assurance level."""
