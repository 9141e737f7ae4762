"""Imagery providers: all I/O to imagery services and files lives in this package."""

from sitewatch.providers.base import Provider, get_provider, provider_names, register_provider

__all__ = ["Provider", "get_provider", "provider_names", "register_provider"]
