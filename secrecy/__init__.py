"""Secrecy (OSL): categories, legal bases, consent, sealed records, disclosure and reveal."""
