"""Shared tools with no business rules, the ground floor every app may import (README,
"Architecture"): text rules, phone numbers, the LLM client, CSP, paginators, error messages,
time zones, word diff, form fields, the management-command base, backend settings, client
sources, the address rules of outbound HTTP and the JSON API's body parser and errors.
core imports no app of the project."""
