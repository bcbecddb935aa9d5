"""The Open API (SPEC §6, §9): ``/open/v5/users…`` for the business's own servers, authenticated
per channel by access key and secret, rate limited per key, described by an OpenAPI schema."""
