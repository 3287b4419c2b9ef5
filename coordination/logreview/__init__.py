"""Log review (loggkontroll): what an agency's auditor sees of the audit log, the monthly
report of views and disclosures with its flags, and the sign-off of a month.

An auditor sees the events of their own agency's users. Upper layers widen that through
``scopes.register_audit_scope`` (secrecy adds views and disclosures of the agency's own records, by
anyone); coordination never imports them. Every service here takes the scopes explicitly, and
refuses anyone without ``Permission.REVIEW_AGENCY_LOG``.

``events`` (the filtered log and its export), ``monthly`` (the monthly report and sign-off),
``scopes`` (who sees what, tag labels), ``models``, ``views``; import from the module that
defines a name.
"""
