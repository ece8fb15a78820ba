"""
The only package that talks to a language-model provider.

Callers build a `CompletionRequest` and get back a frozen `Completion`, or one of the exceptions in
`assistant_proxy.exceptions`; the provider's HTTP answers and failures never leave this package.
"""
