"""Who is calling and what they may touch: the `Principal` a request authenticates as (API tokens, OIDC JWTs, or
the open single-user mode), and the namespace scope every API route goes through (`scoped_store`)."""
