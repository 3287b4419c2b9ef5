"""The ground floor: database, configuration, login, audit log, agencies, users and councils."""
